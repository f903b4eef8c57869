package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.routecal.RoutecalException;

import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 12 item 3: every config.json field is checked against its meaning before any work, and the error names the
 * field. Each case is one class of bad value that used to load (and then produced NaN routing, a stack trace, or
 * minutes of work); the expected text is the field's name plus a word of what was wrong.
 */
class ConfigValidationTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode qwen3() throws Exception {
        return (ObjectNode) JSON.readTree(ModelLoadingTest.QWEN3.resolve("config.json").toFile());
    }

    private static Arguments bad(String what, Consumer<ObjectNode> edit, String... expected) {
        return Arguments.of(what, edit, expected);
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                bad("rms_norm_eps zero", c -> c.put("rms_norm_eps", 0.0), "rms_norm_eps", "positive"),
                bad("rms_norm_eps negative", c -> c.put("rms_norm_eps", -1e-6), "rms_norm_eps", "positive"),
                bad("rope_theta zero", c -> ((ObjectNode) c.get("rope_parameters")).put("rope_theta", 0.0), "rope_theta", "positive"),
                bad("rope_theta negative (transformers 4 key)", c -> { c.remove("rope_parameters"); c.put("rope_theta", -10.0); }, "rope_theta", "positive"),
                bad("rope-scaling factor zero", c -> ((ObjectNode) c.get("rope_parameters")).put("rope_type", "linear").put("factor", 0.0), "factor", "positive"),
                bad("yarn without original context", c -> ((ObjectNode) c.get("rope_parameters")).put("rope_type", "yarn").put("factor", 4.0)
                        .put("original_max_position_embeddings", 0), "original_max_position_embeddings", "positive"),
                bad("llama3 with high_freq_factor <= low_freq_factor", c -> ((ObjectNode) c.get("rope_parameters")).put("rope_type", "llama3")
                        .put("factor", 8.0).put("low_freq_factor", 4.0).put("high_freq_factor", 4.0).put("original_max_position_embeddings", 128),
                        "high_freq_factor", "low_freq_factor"),
                bad("head_dim negative", c -> c.put("head_dim", -16), "head_dim", "positive"),
                bad("head_dim odd (RoPE rotates pairs)", c -> c.put("head_dim", 15), "head_dim", "even"),
                bad("absurd num_experts", c -> c.put("num_local_experts", Integer.MAX_VALUE), "num_local_experts", "2147483647"),
                bad("absurd num_hidden_layers", c -> c.put("num_hidden_layers", 1 << 30), "num_hidden_layers"),
                bad("top-k above the expert count", c -> c.put("num_experts_per_tok", 9), "num_experts_per_tok", "exceeds"),
                bad("top-k zero", c -> c.put("num_experts_per_tok", 0), "num_experts_per_tok", "positive"),
                bad("hidden not divisible by heads", c -> { c.remove("head_dim"); c.put("hidden_size", 66); }, "hidden_size", "divisible"),
                bad("kv heads not dividing heads", c -> c.put("num_key_value_heads", 3), "num_key_value_heads", "divide"),
                bad("vocab_size zero", c -> c.put("vocab_size", 0), "vocab_size", "positive"),
                bad("moe_intermediate_size negative", c -> c.put("moe_intermediate_size", -32), "moe_intermediate_size", "positive"),
                bad("dense layers without a dense width", c -> c.put("intermediate_size", 0), "intermediate_size", "positive"),
                bad("decoder_sparse_step zero", c -> c.put("decoder_sparse_step", 0), "decoder_sparse_step"),
                bad("mlp_only_layers outside the model", c -> c.putArray("mlp_only_layers").add(7), "mlp_only_layers", "7"),
                bad("max_position_embeddings zero", c -> c.put("max_position_embeddings", 0), "max_position_embeddings", "positive"),
                bad("rms_norm_eps not a number", c -> c.put("rms_norm_eps", "tiny"), "rms_norm_eps", "number"),
                bad("norm_topk_prob not a boolean", c -> c.put("norm_topk_prob", "yes"), "norm_topk_prob", "true or false"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badConfigs")
    void badFieldIsRefusedNamingIt(String what, Consumer<ObjectNode> edit, String[] expected) throws Exception {
        ObjectNode c = qwen3();
        edit.accept(c);
        RoutecalException e = assertThrows(RoutecalException.class, () -> ModelConfig.parse(c, "cfg"), what);
        for (String part : expected) assertTrue(e.getMessage().contains(part), what + ": \"" + part + "\" not in: " + e.getMessage());
    }
}
