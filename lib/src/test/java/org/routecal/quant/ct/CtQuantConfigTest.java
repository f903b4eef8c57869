package org.routecal.quant.ct;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.Rtn;
import org.routecal.quant.scheme.ScaleDType;

/** Config groups for mixed widths, compact targets, honest storage cost and the vLLM notes. */
class CtQuantConfigTest {
    static final IntScheme W2 = new IntScheme(2, true, 32, ScaleDType.BF16), W3 = new IntScheme(3, true, 32, ScaleDType.BF16),
            W4 = new IntScheme(4, true, 32, ScaleDType.BF16);

    /** Every expert projection of a 4-layer × 12-expert model, plus attention. */
    static List<String> universe() {
        List<String> all = new ArrayList<>();
        for (int l = 0; l < 4; l++) {
            for (String p : new String[]{"q_proj", "k_proj", "v_proj", "o_proj"}) all.add("model.layers." + l + ".self_attn." + p);
            for (int e = 0; e < 12; e++) {
                for (String p : new String[]{"gate_proj", "up_proj", "down_proj"}) all.add("model.layers." + l + ".mlp.experts." + e + "." + p);
            }
        }
        return all;
    }

    @Test
    void compactTargetsMatchExactlyTheirModules() {
        Random rnd = new Random(3);
        List<String> all = universe();
        for (int trial = 0; trial < 20; trial++) {
            Set<String> chosen = new HashSet<>();
            for (String m : all) if (rnd.nextInt(4) == 0) chosen.add(m);
            List<String> targets = CtTargets.compact(chosen);
            for (String m : all) {
                boolean hit = targets.stream().anyMatch(t -> CtTargets.matches(t, m));
                assertEquals(chosen.contains(m), hit, m + " against " + targets);
            }
            assertTrue(targets.size() <= 4 * 2 * 7 + 16, "compact: at most a few patterns per layer, got " + targets.size());
        }
        // index 1 must not match 10 or 11; a name without an index stays exact
        List<String> t = CtTargets.compact(List.of("model.layers.0.mlp.experts.1.up_proj", "lm_head"));
        assertTrue(t.contains("lm_head"));
        assertFalse(t.stream().anyMatch(x -> CtTargets.matches(x, "model.layers.0.mlp.experts.11.up_proj")));
    }

    @Test
    void moduleTakesItsMostSpecificGroup() {
        String e3 = "model.layers.1.mlp.experts.3.down_proj", e4 = "model.layers.1.mlp.experts.4.down_proj";
        CtQuantConfig c = new CtQuantConfig(List.of(new CtQuantConfig.Group(W4, List.of("Linear")),
                new CtQuantConfig.Group(W3, CtTargets.compact(List.of(e3, e4))),
                new CtQuantConfig.Group(W2, List.of(e4))), ActOrder.NONE, List.of());
        assertEquals(W2, c.schemeOf(e4));                                    // exact name beats regex
        assertEquals(W3, c.schemeOf(e3));                                    // regex beats the class target
        assertEquals(W4, c.schemeOf("model.layers.1.self_attn.q_proj"));    // class target
        CtQuantConfig noLinear = new CtQuantConfig(List.of(new CtQuantConfig.Group(W3, List.of(e3))), ActOrder.NONE, List.of());
        RoutecalException ex = assertThrows(RoutecalException.class, () -> noLinear.schemeOf(e4));
        assertTrue(ex.getMessage().contains(e4));
    }

    @Test
    void jsonRoundTripKeepsGroupsAndFormat() {
        CtQuantConfig c = new CtQuantConfig(List.of(new CtQuantConfig.Group(W4, List.of("Linear")),
                new CtQuantConfig.Group(new IntScheme(3, false, 0, ScaleDType.BF16), List.of("re:model\\.layers\\.0\\.mlp\\.experts\\.(1|2)\\.(down_proj)$"))),
                ActOrder.STATIC, List.of("lm_head"));
        JsonNode j = c.toJson();
        assertEquals("pack-quantized", j.get("format").asText());
        assertEquals(2, j.get("config_groups").size());
        CtQuantConfig back = CtQuantConfig.fromJson(j, "test");
        assertEquals(2, back.groups().size());
        assertEquals(3, ((IntScheme) back.groups().get(1).scheme()).bits());
        assertFalse(((IntScheme) back.groups().get(1).scheme()).symmetric());
        assertEquals(c.groups().get(1).targets(), back.groups().get(1).targets());
        assertEquals(ActOrder.STATIC, back.actOrder());
        CtQuantConfig mixedFormats = new CtQuantConfig(List.of(new CtQuantConfig.Group(W4, List.of("Linear")),
                new CtQuantConfig.Group(new Fp8Scheme(false, ScaleDType.BF16), List.of("lm_head"))), ActOrder.NONE, List.of());
        assertEquals("mixed-precision", mixedFormats.toJson().get("format").asText());
    }

    @Test
    void olderCompressedTensorsPackingIsRefusedForOddWidths() throws Exception {
        ObjectNodeBuilder b = new ObjectNodeBuilder(new CtQuantConfig(W3, ActOrder.NONE, List.of()).toJson());
        RoutecalException e = assertThrows(RoutecalException.class, () -> CtQuantConfig.fromJson(b.version("0.17.1"), "ckpt/config.json"));
        assertTrue(e.getMessage().contains("0.17.1") && e.getMessage().contains("ckpt/config.json"), e.getMessage());
        CtQuantConfig.fromJson(b.version("0.18.0"), "x");
        // 4-bit packing is the same in both layouts
        CtQuantConfig.fromJson(new ObjectNodeBuilder(new CtQuantConfig(W4, ActOrder.NONE, List.of()).toJson()).version("0.12.2"), "x");
    }

    record ObjectNodeBuilder(JsonNode base) {
        JsonNode version(String v) {
            com.fasterxml.jackson.databind.node.ObjectNode n = base.deepCopy();
            n.put("version", v);
            return n;
        }
    }

    @Test
    void storedBytesIsWhatTheCodecWrites() {
        Random rnd = new Random(5);
        int rows = 48, cols = 96;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
        List<QuantScheme> schemes = new ArrayList<>();
        for (int b = 2; b <= 8; b++) {
            schemes.add(new IntScheme(b, true, 32, ScaleDType.BF16));
            schemes.add(new IntScheme(b, false, 0, ScaleDType.F32));
        }
        schemes.add(new Fp8Scheme(false, ScaleDType.BF16));
        schemes.add(new Fp8Scheme(true, ScaleDType.F32));
        schemes.add(new Nvfp4Scheme(ScaleDType.BF16));
        Map<String, Long> bytes = new LinkedHashMap<>();
        for (QuantScheme s : schemes) {
            long written = 0;
            for (CtCodec.CtTensor t : CtCodec.encode("m", Rtn.quantize(s, w, rows, cols))) written += t.data().length;
            assertEquals(written, CtCodec.storedBytes(s, rows, cols, false), s.toString());
            bytes.put(s.toString(), written);
        }
        // 3-bit symmetric g32: 3 bits + 16/32 scale bits per weight, exactly, plus the 16-byte shape
        assertEquals(rows * cols * 3 / 8 + rows * cols / 32 * 2 + 16, CtCodec.storedBytes(W3, rows, cols, false));
    }

    @Test
    void vllmNotesNameWhatCannotBeServed() {
        assertTrue(VllmSupport.notes(W4).isEmpty());
        assertTrue(VllmSupport.notes(new IntScheme(8, false, 0, ScaleDType.BF16)).isEmpty());
        assertTrue(VllmSupport.notes(new Fp8Scheme(false, ScaleDType.BF16)).isEmpty());
        List<String> w3 = VllmSupport.notes(new IntScheme(3, false, 32, ScaleDType.BF16));
        assertTrue(w3.stream().anyMatch(s -> s.contains("3-bit") && s.contains("Marlin")), w3.toString());
        assertTrue(w3.stream().anyMatch(s -> s.contains("densely")), w3.toString());
        assertTrue(w3.stream().anyMatch(s -> s.contains("zero points")), w3.toString());
        assertFalse(VllmSupport.notes(W2).stream().anyMatch(s -> s.contains("densely")), "2-bit packing is the same in every version");
        CtQuantConfig mixed = new CtQuantConfig(List.of(new CtQuantConfig.Group(W4, List.of("Linear")),
                new CtQuantConfig.Group(new IntScheme(8, true, 32, ScaleDType.BF16), List.of("model.layers.0.mlp.experts.1.up_proj"))),
                ActOrder.NONE, List.of());
        assertTrue(VllmSupport.notes(mixed, false).isEmpty());
        List<String> within = VllmSupport.notes(mixed, true);
        assertEquals(1, within.size());
        assertTrue(within.get(0).contains("expert 0") && within.get(0).contains("[4, 8]"), within.get(0));
    }
}
