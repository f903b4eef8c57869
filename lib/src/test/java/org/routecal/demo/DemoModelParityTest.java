package org.routecal.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.routecal.io.safetensors.SafetensorsCheckpoint;
import org.routecal.model.HostRoutingTap;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our forward pass on the generated demo model routes every fixture token as HF transformers did
 * ({@code tests/fixtures/demo/v1/expected.safetensors}, made by {@code tests/make_demo_fixture.py}), and its last-position
 * logits agree. Top-k sets are compared per token, so the order of two selected experts does not matter.
 */
class DemoModelParityTest {
    private static Path cache;
    private static MoeModel model;
    private static JsonNode expected;
    private static SafetensorsCheckpoint reference;

    @BeforeAll
    static void load() throws Exception {
        cache = Files.createTempDirectory("demo-parity");
        model = MoeModel.load(DemoAssets.ensure(cache));
        expected = new ObjectMapper().readTree(DemoAssetsTest.fixtureDir().resolve("expected.json").toFile());
        reference = SafetensorsCheckpoint.open(DemoAssetsTest.fixtureDir().resolve("expected.safetensors"));
    }

    @AfterAll
    static void close() throws Exception {
        model.close();
        reference.close();
        DemoAssetsTest.deleteTree(cache);
    }

    @Test
    void routingAndLogitsMatchHf() {
        int t = 0, tokensChecked = 0;
        for (JsonNode item : expected.get("texts")) {
            int[] ids = new int[item.get("ids").size()];
            for (int i = 0; i < ids.length; i++) ids[i] = item.get("ids").get(i).asInt();
            List<int[]> topk = new ArrayList<>();
            ForwardTaps taps = new HostRoutingTap() {
                @Override public void routing(int layer, int tokens, int topK, int[] topkIds, float[] w, float[] logits) {
                    topk.add(topkIds.clone());
                }
            };
            float[] resLogits = model.forwardLogits(List.of(ids), taps);
            int layers = model.config().layerCount();
            assertEquals(layers, topk.size());
            for (int layer = 0; layer < layers; layer++) {
                int[] hf = reference.readInt("t" + t + ".layer" + layer + ".topk_ids");
                int[] ours = topk.get(layer);
                int k = hf.length / ids.length;
                for (int pos = 0; pos < ids.length; pos++) {
                    int[] a = java.util.Arrays.copyOfRange(hf, pos * k, pos * k + k);
                    int[] b = java.util.Arrays.copyOfRange(ours, pos * k, pos * k + k);
                    java.util.Arrays.sort(a);
                    java.util.Arrays.sort(b);
                    assertEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(b),
                            "text " + t + " layer " + layer + " token " + pos);
                }
            }
            float[] hfLast = reference.readFloat("t" + t + ".logits_last");
            int vocab = hfLast.length;
            float[] logits = resLogits;
            double maxDiff = 0;
            for (int v = 0; v < vocab; v++) maxDiff = Math.max(maxDiff, Math.abs(logits[(ids.length - 1) * vocab + v] - hfLast[v]));
            assertTrue(maxDiff < 1e-2, "text " + t + " last-position logits differ by " + maxDiff);
            tokensChecked += ids.length;
            t++;
        }
        assertTrue(tokensChecked > 100);
    }
}
