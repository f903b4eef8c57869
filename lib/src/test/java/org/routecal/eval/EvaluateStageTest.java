package org.routecal.eval;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;
import org.routecal.pipeline.Progress;
import org.routecal.quant.FixtureTensors;
import org.routecal.quant.report.FlatParquet;

/** evaluate on the tiny fixture model against itself and against a quantized copy; quantize + evaluate via the CLI. */
class EvaluateStageTest {
    static {
        try {
            Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static final Path MODEL = FixtureTensors.DIR.getParent().resolve("models/qwen3_moe/v1");

    static List<EvalSample> samples() {
        Random r = new Random(5);
        List<EvalSample> out = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            int[] ids = new int[20];
            for (int i = 0; i < ids.length; i++) ids[i] = r.nextInt(256);
            out.add(new EvalSample("s" + s, s % 2 == 0 ? "math" : "code", ids));
        }
        return out;
    }

    @Test
    void identicalModelHasZeroKlAndFullAgreement(@TempDir Path tmp) {
        EvaluateStage.Result r = EvaluateStage.run(MODEL, List.of(MODEL), samples(), tmp.resolve("e"), false, Progress.NONE);
        EvaluateStage.ModelMetrics self = r.models().get(1);
        assertEquals(0.0, self.kl(), 1e-9);
        assertEquals(1.0, self.top1());
        self.routerAgreement().values().forEach(v -> assertEquals(1.0, v));
        assertEquals(r.models().get(0).nll(), self.nll(), 1e-9);
        assertEquals(4 * 19, r.models().get(0).tokens());
    }

    @Test
    void quantizeThenEvaluateThroughTheCli(@TempDir Path tmp) throws Exception {
        Path corpus = tmp.resolve("corpus.jsonl");
        StringBuilder sb = new StringBuilder();
        for (EvalSample s : samples()) {
            sb.append("{\"sample_id\":\"").append(s.sampleId()).append("\",\"domain\":\"").append(s.domain()).append("\",\"ids\":")
                    .append(java.util.Arrays.toString(s.ids())).append("}\n");
        }
        Files.writeString(corpus, sb);
        Path q = tmp.resolve("w4");
        assertEquals(0, Main.run("quantize", "--model", MODEL.toString(), "--corpus", corpus.toString(), "--out", q.toString(),
                "--scheme", "w4a16", "--group-size", "16", "--min-tokens", "4"));
        assertTrue(Files.exists(q.resolve("quant_report.parquet")) && Files.exists(q.resolve("manifest.json")));
        assertEquals(0, Main.run("evaluate", "--model", MODEL.toString(), "--quantized", q.toString(), "--corpus", corpus.toString(),
                "--out", tmp.resolve("e").toString()));
        JsonNode j = new ObjectMapper().readTree(tmp.resolve("e/eval.json").toFile());
        assertEquals("routecal.eval", j.get("format").asText());
        assertEquals(8, j.get("samples").size()); // 4 samples × (original + w4)
        assertEquals(4, j.get("domains").size()); // 2 domains × 2 models
        JsonNode w4 = j.get("models").get(1);
        assertTrue(w4.get("kl").asDouble() > 0);
        assertTrue(w4.get("top1_agreement").asDouble() <= 1.0);
        assertEquals(8, FlatParquet.read(tmp.resolve("e/eval.parquet")).rows().size());
        FlatParquet.Table ex = FlatParquet.read(tmp.resolve("e/eval_experts.parquet"));
        assertFalse(ex.rows().isEmpty());
        for (Map<String, Object> row : ex.rows()) assertTrue((Double) row.get("rel_output_error") > 0, "4-bit experts differ");
        assertTrue(Files.readString(tmp.resolve("e/eval.html")).contains("<table"));
        assertEquals(2, Main.run("evaluate", "--model", MODEL.toString(), "--corpus", corpus.toString(), "--out", tmp.resolve("e").toString()),
                "existing --out is refused");
        Files.writeString(tmp.resolve("text.jsonl"), "{\"text\": \"hello\"}\n");
        assertEquals(2, Main.run("quantize", "--model", MODEL.toString(), "--corpus", tmp.resolve("text.jsonl").toString(), "--out",
                tmp.resolve("x").toString()));
    }

    @Test
    void sequenceMetricsByHand() {
        // two positions, vocab 2: logits (0,0) → p = ½ each; next tokens 1, 0
        float[] logits = {0f, 0f, (float) Math.log(3), 0f};
        int[] ids = {0, 1, 0};
        // −log ½ − log ¾
        assertEquals(Math.log(2) + Math.log(4.0 / 3), SequenceMetrics.nllSum(logits, ids, 2), 1e-6);
        float[] q = {0f, 0f, 0f, 0f};
        // KL at position 1: ¾·log(¾/½) + ¼·log(¼/½)
        assertEquals(0.75 * Math.log(1.5) + 0.25 * Math.log(0.5), SequenceMetrics.klSum(logits, q, 2, 2), 1e-6);
        assertEquals(2, SequenceMetrics.sameTopK(new int[]{1, 2, 3, 4}, new int[]{2, 1, 3, 4}, 2, 2));
        assertEquals(1, SequenceMetrics.sameTopK(new int[]{1, 2, 3, 4}, new int[]{1, 2, 3, 5}, 2, 2));
    }
}
