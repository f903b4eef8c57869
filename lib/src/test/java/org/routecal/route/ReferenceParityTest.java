package org.routecal.route;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reference-compatible mode against the PASCAL-MoE phase-1 code's own outputs (steps 3–6) on a seeded example with
 * ties, NaN sensitivities, a missing {@code <think>} marker, non-ASCII text and overlapping token boxes.
 */
class ReferenceParityTest {
    static ReferenceFixture fx;
    static long[] counts;
    static double[] sensitivity;

    @BeforeAll
    static void load() throws Exception {
        fx = new ReferenceFixture();
        ExpertCounts c = new ExpertCounts(ReferenceFixture.GEOMETRY, List.of("all"));
        c.add(fx.batch, new int[fx.samples.size()]);
        counts = c.counts();
        Map<String, int[]> shapes = new HashMap<>();
        Map<String, float[]> w = fx.weights(shapes);
        RoutingGeometry g = ReferenceFixture.GEOMETRY;
        sensitivity = new double[g.slots()];
        for (int l = 0; l < g.layers(); l++) {
            for (int e = 0; e < g.experts(); e++) {
                float[] s = new float[3];
                String[] proj = {"gate_proj", "up_proj", "down_proj"};
                for (int i = 0; i < 3; i++) {
                    String name = "model.layers." + l + ".mlp.experts." + e + "." + proj[i] + ".weight";
                    s[i] = ReferenceSensitivity.matrix(w.get(name), shapes.get(name)[0], shapes.get(name)[1], ReferenceSensitivity.GROUP);
                }
                sensitivity[g.slot(l, e)] = ReferenceSensitivity.expert(s[0], s[1], s[2]);
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"step3_thra.json, 0.25, 0.25", "step3_thrb.json, 0.1, 0.3"})
    void balanceSetsEqualStep3(String file, double freq, double less) throws Exception {
        JsonNode ref = fx.expected(file);
        SlotSets s = SlotSets.balance(ReferenceFixture.GEOMETRY, counts, freq, less, Ranking.GLOBAL);
        assertArrayEquals(ReferenceFixture.slots(ref.get("freq_expert")), s.y());
        assertArrayEquals(ReferenceFixture.slots(ref.get("less_expert")), s.x());
    }

    @Test
    void sensitivityScoresEqualStep4Bitwise() throws Exception {
        JsonNode ref = fx.expected("step4_sensitivity.json");
        int nan = 0;
        for (JsonNode e : ref) {
            int slot = ReferenceFixture.GEOMETRY.slot(e.get("layer").asInt(), e.get("expert_id").asInt());
            if (e.get("sensitivity").isNull()) {
                assertTrue(Double.isNaN(sensitivity[slot]), "slot " + slot);
                nan++;
            } else {
                assertEquals(e.get("sensitivity").asDouble(), sensitivity[slot], 0.0, "slot " + slot);
            }
        }
        assertEquals(1, nan, "the fixture plants exactly one all-narrow expert");
    }

    @Test
    void qSensitivitySetsEqualStep4() throws Exception {
        JsonNode ref = fx.expected("step4_thr.json");
        SlotSets s = SlotSets.qSensitivity(ReferenceFixture.GEOMETRY, sensitivity, 0.25, 0.25, Ranking.GLOBAL);
        assertArrayEquals(ReferenceFixture.slots(ref.get("q_sensitive_expert")), s.x());
        assertArrayEquals(ReferenceFixture.slots(ref.get("q_robust_group")), s.y());
    }

    @ParameterizedTest
    @CsvSource({"balance, ref, 0.10, 0.77, 0.15, 0.60", "balance, wide, 0.2, 0.4, 0.2, 0.35",
            "q_sensitivity, ref, 0.20, 0.20, 0.35, 0.25", "q_sensitivity, wide, 0.3, 0.1, 0.2, 0.3"})
    void tokenClassesAndBracketsEqualSteps5And6(String mode, String boxName, double bx, double by, double rx, double ry) throws Exception {
        Mode m = Mode.parse(mode);
        SlotSets sets = m == Mode.BALANCE
                ? SlotSets.balance(ReferenceFixture.GEOMETRY, counts, 0.25, 0.25, Ranking.GLOBAL)
                : SlotSets.qSensitivity(ReferenceFixture.GEOMETRY, sensitivity, 0.25, 0.25, Ranking.GLOBAL);
        TokenScorer.TokenScores ts = new TokenScorer(sets, new Boxes(bx, by, rx, ry), new long[sets.geometry().slots()], 1).score(fx.batch);
        JsonNode ref = fx.expected("step5_" + mode + "_" + boxName + ".json");
        assertEquals(ref.get("n_tokens_total").asInt(), ts.tokens());
        assertEquals(tokens(ref.get("token_blue_region")), tokens(ts, ts.blue()));
        assertEquals(tokens(ref.get("token_red_region")), tokens(ts, ts.red()));
        for (JsonNode e : ref.get("token_blue_region")) {
            int t = fx.sampleStart[e.get("sample_id").asInt()] + e.get("position_id").asInt();
            assertEquals(e.get("ratio_x").asDouble(), ts.x()[t], 0.0);
            assertEquals(e.get("ratio_y").asDouble(), ts.y()[t], 0.0);
        }
        byte[] labels = Brackets.labels(ts.blue(), ts.red(), Brackets.Overlap.BLUE_FIRST);
        for (String after : new String[]{"after", "all"}) {
            List<JsonNode> expected = fx.expectedJsonl("step6_" + mode + "_" + boxName + "_" + after + ".jsonl");
            for (int s = 0; s < fx.samples.size(); s++) {
                int from = fx.sampleStart[s], to = fx.sampleStart[s + 1];
                String text = fx.samples.get(s).get("text").asText();
                Brackets.Tagged tg = Brackets.apply(text, Arrays.copyOfRange(fx.batch.charStart(), from, to),
                        Arrays.copyOfRange(fx.batch.charEnd(), from, to), Arrays.copyOfRange(labels, from, to),
                        after.equals("after") ? "<think>\n" : null);
                JsonNode e = expected.get(s);
                assertEquals(e.get("text").asText(), tg.text(), mode + "/" + boxName + "/" + after + " sample " + s);
                assertEquals(e.get("n_tokens_total").asInt(), tg.tokens());
                assertEquals(e.get("n_tokens_blue").asInt(), tg.blueTokens());
                assertEquals(e.get("n_tokens_red").asInt(), tg.redTokens());
                assertEquals(text, Brackets.strip(tg.text()));
            }
        }
    }

    private static TreeSet<String> tokens(JsonNode list) {
        TreeSet<String> out = new TreeSet<>();
        for (JsonNode e : list) out.add(e.get("sample_id").asInt() + ":" + e.get("position_id").asInt());
        return out;
    }

    private static TreeSet<String> tokens(TokenScorer.TokenScores ts, boolean[] mask) {
        TreeSet<String> out = new TreeSet<>();
        for (int t = 0; t < ts.tokens(); t++) if (mask[t]) out.add(fx.batch.sampleIndex()[t] + ":" + fx.batch.position()[t]);
        return out;
    }
}
