package org.routecal.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.tokenize.ChatTemplate;
import org.routecal.tokenize.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The model's own Hugging Face tokenizer and chat template. Stop ids: {@code eos_token_id} of {@code config.json} and
 * {@code generation_config.json} (a number or a list), plus the template's end-of-turn token when the vocabulary has
 * one ({@code <|im_end|>}, {@code <|eot_id|>}, {@code <|end|>}).
 */
public final class TokenizerCodec implements TextCodec, AutoCloseable {
    private final Tokenizer tokenizer;
    private final Set<Integer> stopIds = new HashSet<>();

    public TokenizerCodec(Path modelDir) {
        this.tokenizer = Tokenizer.load(modelDir);
        for (String f : List.of("config.json", "generation_config.json")) addEos(modelDir.resolve(f));
        for (String t : List.of("<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>")) tokenizer.tokenId(t).ifPresent(stopIds::add);
    }

    private void addEos(Path f) {
        if (!Files.isRegularFile(f)) return;
        try {
            JsonNode eos = new ObjectMapper().readTree(f.toFile()).path("eos_token_id");
            if (eos.isInt()) stopIds.add(eos.asInt());
            else if (eos.isArray()) eos.forEach(e -> stopIds.add(e.asInt()));
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    @Override public int[] encode(String text) { return tokenizer.encode(text).ids(); }

    @Override public int[][] spans(String text) {
        org.routecal.tokenize.Encoding e = tokenizer.encode(text);
        return new int[][]{e.charStart(), e.charEnd()};
    }

    @Override public String decode(int[] ids) { return tokenizer.decode(ids); }

    @Override public String renderChat(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        ChatTemplate t = tokenizer.chatTemplate().orElseThrow(() -> new RoutecalException(tokenizer.directory()
                + " has no chat template (tokenizer_config.json chat_template or chat_template.jinja)"));
        return t.renderMaps(messages, addGenerationPrompt, Map.of());
    }

    @Override public Set<Integer> stopIds() { return Set.copyOf(stopIds); }

    @Override public void close() { tokenizer.close(); }
}
