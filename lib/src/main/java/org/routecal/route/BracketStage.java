package org.routecal.route;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.pipeline.Progress;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bracket stage: re-derives the slot sets of one mode from a finished route run (counts and sensitivities in
 * expert_stats.parquet, with this call's thresholds and ranking), classifies every token streamed from
 * routing.parquet, and writes {@code bracketed_{mode}.jsonl} in the reference schema
 * {@code {domain, sample_id, mode, n_tokens_total, n_tokens_blue, n_tokens_red, text}} using the spans stored at
 * routing time. One sample is in memory at a time.
 */
public final class BracketStage {
    private static final ObjectMapper JSON = Json.MAPPER;

    /** Parameters of a bracket run; thresholds follow {@link RouteParams}, {@code afterMarker} null = tag everything. */
    public record Params(Mode mode, String afterMarker, Boxes boxes, double freqThr, double lessThr, double robThr, double senThr,
                         Ranking ranking, Brackets.Overlap overlap) {
        /** The reference's settings for a mode (the CLI's defaults): its boxes, quartile slot sets, global ranking. */
        public static Params defaults(Mode mode) {
            return new Params(mode, null, mode.defaultBoxes(), 0.25, 0.25, 0.25, 0.25, Ranking.GLOBAL, Brackets.Overlap.BLUE_FIRST);
        }
    }

    /** Tokens and class counts per domain, and the output file. */
    public record Result(Path output, Mode mode, Map<String, long[]> perDomain /* tokens, blue, red */) {
        @Override public String toString() {
            StringBuilder sb = new StringBuilder("bracketed (" + mode.key() + ") → " + output + "\n");
            perDomain.forEach((d, c) -> sb.append(String.format("  %-12s %8d tokens  blue %7d  red %7d%n", d, c[0], c[1], c[2])));
            return sb.toString().stripTrailing();
        }
    }

    private BracketStage() {}

    public static Result run(Path runDir, Params p, Progress progress) {
        RouteRunDir.requireRun(runDir);
        Path routingFile = runDir.resolve(RouteRunDir.ROUTING), statsFile = runDir.resolve(RouteRunDir.EXPERT_STATS);
        RoutingParquet.Header h = RoutingParquet.header(routingFile);
        RoutingGeometry g = h.geometry();
        ParquetTableReader stats = ParquetTableReader.open(statsFile).requireFormat(ExpertStats.FORMAT, 1, ExpertStats.VERSION);
        String statsFp = stats.metadata().get("model_fingerprint");
        if (!h.modelFingerprint().equals(statsFp)) {
            throw new RoutecalException(runDir + ": " + RouteRunDir.ROUTING + " (model " + RouteRunDir.abbrev(h.modelFingerprint()) + ") and "
                    + RouteRunDir.EXPERT_STATS + " (model " + RouteRunDir.abbrev(statsFp) + ") come from different models; refusing to mix them");
        }
        long[] counts = stats.readLongColumn("count");
        double[] sens = stats.readDoubleColumn("sensitivity_ref");
        checkOrder(statsFile, g, stats.readIntColumn("layer"), stats.readIntColumn("expert"));
        SlotSets sets = p.mode() == Mode.BALANCE
                ? SlotSets.balance(g, counts, p.freqThr(), p.lessThr(), p.ranking())
                : SlotSets.qSensitivity(g, sens, p.robThr(), p.senThr(), p.ranking());
        TokenScorer scorer = new TokenScorer(sets, p.boxes(), new long[g.slots()], 1);
        List<JsonNode> samples = Jsonl.read(runDir.resolve(RouteRunDir.SAMPLES));
        Path output = runDir.resolve("bracketed_" + p.mode().key() + ".jsonl");
        Map<String, long[]> perDomain = new LinkedHashMap<>();
        progress.start("bracket " + p.mode().key(), h.rows());
        AtomicFiles.write(output, out -> {
            SampleBuffer cur = new SampleBuffer();
            RoutingParquet.read(routingFile, 4096, b -> {
                TokenScorer.TokenScores s = scorer.score(b);
                byte[] labels = Brackets.labels(s.blue(), s.red(), p.overlap());
                for (int t = 0; t < b.tokens(); t++) {
                    if (cur.sample != b.sampleIndex()[t]) {
                        cur.flush(out, samples, p, perDomain);
                        cur.sample = b.sampleIndex()[t];
                    }
                    if (b.position()[t] != cur.starts.size()) {
                        throw new RoutecalException(routingFile + ": sample " + cur.sample + " position " + b.position()[t]
                                + " out of order (expected " + cur.starts.size() + "); file corrupt?");
                    }
                    cur.starts.add(b.charStart()[t]);
                    cur.ends.add(b.charEnd()[t]);
                    cur.labels.add(labels[t]);
                }
                progress.advance(b.tokens());
            });
            cur.flush(out, samples, p, perDomain);
        });
        progress.finish();
        RouteManifest.write(runDir, "manifest_bracket_" + p.mode().key() + ".json", "bracket", null, h.modelFingerprint(), p,
                Map.of("routing", routingFile, "expert_stats", statsFile), Map.of(), Map.of());
        return new Result(output, p.mode(), perDomain);
    }

    private static void checkOrder(Path file, RoutingGeometry g, int[] layer, int[] expert) {
        if (layer.length != g.slots()) throw new RoutecalException(file + ": " + layer.length + " rows, expected " + g.slots() + " (layers × experts)");
        for (int s = 0; s < layer.length; s++) {
            if (layer[s] != g.layerIndex()[s / g.experts()] || expert[s] != s % g.experts()) {
                throw new RoutecalException(file + ": row " + s + " is (layer " + layer[s] + ", expert " + expert[s] + "), expected slot order");
            }
        }
    }

    /** The tokens of the sample being streamed. */
    private static final class SampleBuffer {
        int sample = -1;
        final List<Integer> starts = new ArrayList<>(), ends = new ArrayList<>();
        final List<Byte> labels = new ArrayList<>();

        void flush(OutputStream out, List<JsonNode> samples, Params p, Map<String, long[]> perDomain) {
            if (sample < 0) return;
            if (sample >= samples.size()) throw new RoutecalException(RouteRunDir.SAMPLES + " has no sample_index " + sample);
            JsonNode meta = samples.get(sample);
            String text = meta.get("text").asText(), domain = meta.get("domain").asText(), sid = meta.get("sample_id").asText();
            int n = starts.size();
            int[] s = new int[n], e = new int[n];
            byte[] l = new byte[n];
            for (int i = 0; i < n; i++) {
                s[i] = starts.get(i);
                e[i] = ends.get(i);
                l[i] = labels.get(i);
            }
            Brackets.Tagged tg = Brackets.apply(text, s, e, l, p.afterMarker());
            ObjectNode row = JSON.createObjectNode();
            row.put("domain", domain);
            if (TokenRoutingJsonl.isCanonicalInt(sid)) row.put("sample_id", Long.parseLong(sid));
            else row.put("sample_id", sid);
            row.put("mode", p.mode().key()).put("n_tokens_total", tg.tokens()).put("n_tokens_blue", tg.blueTokens())
                    .put("n_tokens_red", tg.redTokens()).put("text", tg.text());
            try {
                out.write(JSON.writeValueAsString(row).getBytes(StandardCharsets.UTF_8));
                out.write('\n');
            } catch (IOException ex) {
                throw new RoutecalException("cannot write bracketed line: " + ex.getMessage(), ex);
            }
            long[] c = perDomain.computeIfAbsent(domain, k -> new long[3]);
            c[0] += tg.tokens();
            c[1] += tg.blueTokens();
            c[2] += tg.redTokens();
            starts.clear();
            ends.clear();
            labels.clear();
        }
    }
}
