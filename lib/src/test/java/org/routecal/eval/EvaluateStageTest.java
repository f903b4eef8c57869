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
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.quant.FixtureTensors;
import org.routecal.corpus.Sample;
import org.routecal.io.Json;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.io.parquet.Row;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Sha256;
import org.routecal.tokenize.ByteCodec;

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

    /** Random printable text; the fixture model's vocabulary is bytes, so the byte codec tokenizes it. */
    static List<Sample> samples() {
        Random r = new Random(5);
        List<Sample> out = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 20; i++) text.append((char) (33 + r.nextInt(94)));
            out.add(new Sample("s" + s, s % 2 == 0 ? "math" : "code", text.toString(), new ByteCodec().encode(text.toString())));
        }
        return out;
    }

    @Test
    void identicalModelHasZeroKlAndFullAgreement(@TempDir Path tmp) {
        EvaluateStage.Result r;
        try (MoeModel m = MoeModel.load(MODEL)) {
            r = EvaluateStage.run(m, List.of(new EvaluateStage.Candidate("v1", MODEL, m)), samples(), tmp.resolve("e"), false, Progress.NONE, () -> {});
        }
        EvaluateStage.ModelMetrics self = r.models().get(1);
        assertEquals(0.0, self.kl(), 1e-9);
        assertEquals(1.0, self.top1());
        self.routerAgreement().values().forEach(v -> assertEquals(1.0, v));
        assertEquals(r.models().get(0).nll(), self.nll(), 1e-9);
        assertEquals(4 * 19, r.models().get(0).tokens());
    }

    /**
     * A corpus of several forward batches in layer-major passes: every sample's NLL is what a forward of that sample
     * alone gives (no rows mixed between batches, samples or models), and a second copy of the model agrees exactly.
     */
    @Test
    void severalBatchesInLayerMajorPassesMatchOneSampleAtATime(@TempDir Path tmp) {
        Random r = new Random(11);
        List<Sample> samples = new ArrayList<>();
        for (int s = 0; s < 40; s++) {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < 120 + r.nextInt(60); i++) text.append((char) (33 + r.nextInt(94)));
            samples.add(new Sample("s" + s, s % 3 == 0 ? "math" : "code", text.toString(), new ByteCodec().encode(text.toString())));
        }
        long total = samples.stream().mapToLong(x -> x.ids().length).sum();
        assertTrue(total > 2 * EvaluateStage.BATCH_TOKENS, "at least three forward batches: " + total);
        assertEquals(List.of(List.of(1, 2), List.of(3)), EvaluateStage.passes(List.of(samples.subList(0, 1), samples.subList(1, 3),
                samples.subList(3, 6)), 3 * samples.get(0).ids().length + 1).stream().map(p -> p.stream().map(List::size).toList()).toList());
        try (MoeModel m = MoeModel.load(MODEL); MoeModel copy = MoeModel.load(MODEL)) {
            EvaluateStage.run(m, List.of(new EvaluateStage.Candidate("copy", MODEL, copy)), samples, tmp.resolve("e"), false,
                    Progress.NONE, () -> {});
            Map<String, Double> nll = new java.util.HashMap<>();
            for (Row row : ParquetTableReader.open(tmp.resolve("e/eval.parquet")).readAll()) {
                nll.put(row.getString("model") + "/" + row.getString("sample_id"), row.getDouble("nll"));
            }
            int vocab = m.config().vocabSize();
            for (Sample s : samples) {
                float[] logits = m.forwardLogits(List.of(s.ids()), org.routecal.model.ForwardTaps.NONE);
                double alone = SequenceMetrics.nllSum(logits, s.ids(), vocab) / (s.ids().length - 1);
                assertEquals(alone, nll.get("original/" + s.sampleId()), 1e-4, s.sampleId());
                assertEquals(nll.get("original/" + s.sampleId()), nll.get("copy/" + s.sampleId()), 1e-12, s.sampleId());
            }
        }
    }

    @Test
    void quantizeThenEvaluateThroughTheCli(@TempDir Path tmp) throws Exception {
        Path corpus = tmp.resolve("corpus.jsonl");
        StringBuilder sb = new StringBuilder();
        for (Sample s : samples()) {
            sb.append(Json.MAPPER.writeValueAsString(Map.of("sample_id", s.sampleId(), "domain", s.domain(), "text", s.text()))).append('\n');
        }
        Files.writeString(corpus, sb);
        Path q = tmp.resolve("w4");
        assertEquals(0, Main.run("quantize", "--model", MODEL.toString(), "--corpus", corpus.toString(), "--tokenizer", "byte",
                "--out", q.toString(), "--scheme", "w4a16", "--group-size", "16", "--min-tokens", "4"));
        assertTrue(Files.exists(q.resolve("quant_report.parquet")) && Files.exists(q.resolve("manifest.json")));
        assertEquals(0, Main.run("evaluate", "--model", MODEL.toString(), "--quantized", q.toString(), "--corpus", corpus.toString(),
                "--tokenizer", "byte", "--out", tmp.resolve("e").toString()));
        JsonNode j = new ObjectMapper().readTree(tmp.resolve("e/eval.json").toFile());
        assertEquals("routecal.eval", j.get("format").asText());
        assertEquals(8, j.get("samples").size()); // 4 samples × (original + w4)
        assertEquals(4, j.get("domains").size()); // 2 domains × 2 models
        JsonNode w4 = j.get("models").get(1);
        assertTrue(w4.get("kl").asDouble() > 0);
        assertTrue(w4.get("top1_agreement").asDouble() <= 1.0);
        assertEquals(8, ParquetTableReader.open(tmp.resolve("e/eval.parquet")).requireFormat("routecal.eval", 1, 1).rowCount());
        List<Row> ex = ParquetTableReader.open(tmp.resolve("e/eval_experts.parquet")).requireFormat("routecal.eval-experts", 1, 1).readAll();
        assertFalse(ex.isEmpty());
        for (Row row : ex) assertTrue(row.getDouble("rel_output_error") > 0, "4-bit experts differ");
        Manifest m = OutputDir.requireComplete(tmp.resolve("e"), "evaluate", "--out");
        assertEquals(Sha256.of(corpus), m.inputs("corpus").get(0).sha256());
        assertEquals(4, m.results().get("corpus_samples"));
        assertTrue(Files.readString(tmp.resolve("e/eval.html")).contains("<table"));
        // confidence intervals and both domain NLLs, labelled
        JsonNode st = j.get("statistics");
        assertEquals(1000, st.get("resamples").asInt());
        JsonNode w4s = st.get("models").get(1);
        assertEquals("w4", w4s.get("model").asText());
        for (String k : List.of("mean_delta_nll", "worst_domain_delta_nll", "mean_kl", "worst_domain_kl")) {
            JsonNode i = w4s.get(k);
            assertTrue(i.get("lower").asDouble() <= i.get("estimate").asDouble() && i.get("estimate").asDouble() <= i.get("upper").asDouble(), k + ": " + i);
        }
        double klDomainMean = 0;
        for (JsonNode d : j.get("domains")) {
            assertTrue(d.has("nll_per_sample_mean"));
            if (d.get("model").asText().equals("w4")) klDomainMean += d.get("kl").asDouble() / 2;
        }
        assertEquals(klDomainMean, w4s.get("mean_kl").get("estimate").asDouble(), 1e-9, "mean KL = mean of the domain table's KL");
        assertTrue(Files.readString(tmp.resolve("e/eval.html")).contains("nll (per-sample mean)"));
        assertEquals(2, Main.run("evaluate", "--model", MODEL.toString(), "--corpus", corpus.toString(), "--tokenizer", "byte",
                "--out", tmp.resolve("e").toString()), "existing --out is refused");
        assertEquals(0, Main.run("evaluate", "--model", MODEL.toString(), "--corpus", corpus.toString(), "--tokenizer", "byte",
                "--out", tmp.resolve("e").toString(), "--overwrite"), "our own evaluate output is replaced with --overwrite");
        assertEquals(2, Main.run("evaluate", "--model", MODEL.toString(), "--corpus", corpus.toString(), "--tokenizer", "byte",
                "--out", q.toString(), "--overwrite"), "a quantize output is never replaced by evaluate");
        assertTrue(Files.exists(q.resolve("quant_report.parquet")));
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
