package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.model.family.Families;

/** Ignore rules with compressed-tensors' semantics: exact names, and re: anchored at the start only (re.match). */
class IgnoreRulesTest {
    static final List<String> MODULES = List.of("model.layers.0.mlp.gate", "model.layers.0.mlp.gate_proj",
            "model.layers.1.mlp.experts.3.gate_proj", "model.layers.12.mlp.gate", "lm_head", "model.layers.0.mlp.shared_expert_gate");

    @Test
    void regexIsAnchoredAtTheStartOnly() {
        IgnoreRules unanchoredEnd = IgnoreRules.of(List.of("re:.*mlp\\.gate"));
        assertTrue(unanchoredEnd.ignores("model.layers.0.mlp.gate"));
        assertTrue(unanchoredEnd.ignores("model.layers.0.mlp.gate_proj"), "no $ → prefix match, as Python re.match");
        IgnoreRules anchored = IgnoreRules.of(List.of("re:.*mlp\\.gate$"));
        assertTrue(anchored.ignores("model.layers.12.mlp.gate"));
        assertFalse(anchored.ignores("model.layers.0.mlp.gate_proj"));
        IgnoreRules noDotStar = IgnoreRules.of(List.of("re:mlp\\.gate$"));
        assertFalse(noDotStar.ignores("model.layers.0.mlp.gate"), "match, not search: must match from the start");
    }

    @Test
    void exactNamesAndUnmatchedRules() {
        IgnoreRules r = IgnoreRules.of(List.of("lm_head", "re:.*visual.*", "model.layers.0.mlp.gate"));
        assertTrue(r.ignores("lm_head"));
        assertFalse(r.ignores("lm_head_2"));
        assertEquals(List.of("re:.*visual.*"), r.unmatched(MODULES));
    }

    @Test
    void badRegexIsAClearError() {
        RoutecalException e = assertThrows(RoutecalException.class, () -> IgnoreRules.of(List.of("re:.*(gate")));
        assertTrue(e.getMessage().contains("re:.*(gate"));
    }

    @Test
    void familyDefaultsCoverRoutersSharedExpertGatesAndLmHeadButNotProjections() {
        IgnoreRules qwen2 = IgnoreRules.of(IgnoreRules.familyDefaults(Families.QWEN2_MOE));
        assertTrue(qwen2.ignores("model.layers.12.mlp.gate"));
        assertTrue(qwen2.ignores("model.layers.0.mlp.shared_expert_gate"));
        assertTrue(qwen2.ignores("lm_head"));
        assertFalse(qwen2.ignores("model.layers.0.mlp.gate_proj"));
        assertFalse(qwen2.ignores("model.layers.1.mlp.experts.3.gate_proj"));
        assertFalse(qwen2.ignores("model.layers.1.self_attn.q_proj"));
    }
}
