package org.routecal.synth.select;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.corpus.CorpusWriter;
import org.routecal.corpus.DedupKey;
import org.routecal.corpus.Sample;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;
import org.routecal.pipeline.Progress;
import org.routecal.route.RoutingCounts;
import org.routecal.synth.TargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.AcceptanceRule;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code select}: the acceptance rule of synthesize over a local pool, no LLM. The original corpus and the pool are
 * samples of the one corpus reader ({@link org.routecal.corpus.Corpus}: rendered and cut exactly as route and quantize
 * see them). Every pool sample is routed once; then a lazy greedy pass repeatedly takes the candidate with the best
 * deficit-gain per token (a gain only shrinks as the corpus grows, so a stale score is an upper bound and only the top
 * needs re-scoring) and asks the {@link AcceptanceRule}; a rejected candidate stays rejected with its reason. Stops
 * when no candidate has any gain left or {@code maxAccepted} is reached.
 *
 * <p>Writes {@code selected.jsonl} (every pool row: {@code id, domain, n_tokens, routing_score, gain, accepted, reason,
 * order}), {@code selected_accepted.jsonl} (the accepted texts as a corpus: {@code sample_id, domain, text}) and
 * {@code select_metrics.json}.
 */
public final class SelectStage {
    private SelectStage() {}

    public record Result(int pool, int accepted, long deficitBefore, long deficitAfter, double minEntropyBefore,
                         double minEntropyAfter, double driftJs, Map<String, Integer> reasons, RoutingCounts counts, Path outDir,
                         Map<String, Double> timings) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "select: %d of %d pool texts accepted; deficit %d → %d; min layer entropy %.4f → %.4f; "
                    + "JS drift from original %.4f bits%n  reasons: %s%n  out: %s", accepted, pool, deficitBefore, deficitAfter,
                    minEntropyBefore, minEntropyAfter, driftJs, reasons, outDir);
        }
    }

    private static final class Entry {
        final int index;
        final RoutingCounts counts;
        double score;
        Entry(int index, RoutingCounts counts, double score) { this.index = index; this.counts = counts; this.score = score; }
    }

    /**
     * {@code original}: the corpus the selection adds to (its texts are also the duplicate reference); {@code current}:
     * its counts plus anything accepted earlier (usually the same as the original's counts).
     */
    public static Result run(List<Sample> original, RoutingCounts originalCounts, RoutingCounts current, List<Sample> pool,
                             TargetModel model, AcceptanceParams params, int maxAccepted, Path outDir, Progress progress) {
        if (pool.isEmpty()) throw new RoutecalException("the candidate pool is empty");
        long t0 = System.nanoTime();
        AcceptanceRule rule = new AcceptanceRule(params, originalCounts);
        RoutingCounts counts = current.copy();
        long deficitBefore = counts.deficit(params.target());
        double entropyBefore = counts.minNormalizedEntropy();
        Set<String> seen = new HashSet<>();
        for (Sample c : original) seen.add(DedupKey.of(c.text()));

        String[] reason = new String[pool.size()];
        int[] order = new int[pool.size()];
        double[] score = new double[pool.size()];
        long[] gain = new long[pool.size()];
        PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Double.compare(b.score, a.score) : Integer.compare(a.index, b.index));
        progress.start("select: routing pool", pool.size());
        for (int i = 0; i < pool.size(); i++) {
            Sample c = pool.get(i);
            progress.advance(1);
            if (!seen.add(DedupKey.of(c.text()))) { reason[i] = "duplicate"; continue; }
            RoutingCounts rc = model.route(c.text());
            AcceptanceRule.Decision d = rule.decide(counts, rc);
            queue.add(new Entry(i, rc, d.score()));
        }
        progress.finish();
        double routeSeconds = (System.nanoTime() - t0) / 1e9;
        int accepted = 0, step = 0;
        while (!queue.isEmpty()) {
            Entry top = queue.poll();
            AcceptanceRule.Decision d = rule.decide(counts, top.counts);
            if (!queue.isEmpty() && d.score() < queue.peek().score) { // stale: re-queue with its true score
                top.score = d.score();
                queue.add(top);
                continue;
            }
            score[top.index] = d.score();
            gain[top.index] = d.gain();
            if (accepted >= maxAccepted && maxAccepted > 0) { reason[top.index] = "max_accepted"; continue; }
            reason[top.index] = d.reason();
            if (d.accepted()) {
                counts.add(top.counts);
                accepted++;
                order[top.index] = ++step;
            }
        }
        // rows and outputs
        List<ObjectNode> rows = new ArrayList<>();
        Map<String, Integer> reasons = new TreeMap<>();
        try (CorpusWriter corpus = CorpusWriter.open(outDir.resolve("selected_accepted.jsonl"))) {
            for (int i = 0; i < pool.size(); i++) {
                Sample c = pool.get(i);
                reasons.merge(reason[i], 1, Integer::sum);
                rows.add(Json.MAPPER.createObjectNode().put("id", c.sampleId()).put("domain", c.domain()).put("n_tokens", c.tokens())
                        .put("routing_score", score[i]).put("gain", gain[i]).put("accepted", "accepted".equals(reason[i]))
                        .put("reason", reason[i]).put("order", order[i]));
                if ("accepted".equals(reason[i])) corpus.writeText("selected/" + c.sampleId(), c.domain(), c.text());
            }
        }
        Jsonl.write(outDir.resolve("selected.jsonl"), rows);
        double drift = counts.meanJsDivergence(originalCounts);
        Map<String, Double> timings = new LinkedHashMap<>();
        timings.put("route_pool", routeSeconds);
        timings.put("select", (System.nanoTime() - t0) / 1e9 - routeSeconds);
        Result r = new Result(pool.size(), accepted, deficitBefore, counts.deficit(params.target()), entropyBefore,
                counts.minNormalizedEntropy(), drift, reasons, counts, outDir, timings);
        ObjectNode m = Json.MAPPER.createObjectNode().put("format", "routecal.select_metrics").put("format_version", 1)
                .put("pool", r.pool()).put("accepted", accepted).put("target", params.target())
                .put("deficit_before", deficitBefore).put("deficit_after", r.deficitAfter())
                .put("min_entropy_before", entropyBefore).put("min_entropy_after", r.minEntropyAfter()).put("js_drift", drift);
        m.set("acceptance", Json.MAPPER.valueToTree(params));
        m.set("reasons", Json.MAPPER.valueToTree(reasons));
        AtomicFiles.writeJson(outDir.resolve("select_metrics.json"), m);
        return r;
    }

    /** The result's numbers for a manifest's results. */
    public static Map<String, Object> results(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pool", r.pool());
        m.put("accepted", r.accepted());
        m.put("deficit_before", r.deficitBefore());
        m.put("deficit_after", r.deficitAfter());
        m.put("min_entropy_before", r.minEntropyBefore());
        m.put("min_entropy_after", r.minEntropyAfter());
        m.put("js_drift", r.driftJs());
        m.put("reasons", r.reasons());
        return m;
    }

    /** Counts of a whole corpus routed text by text. */
    public static RoutingCounts route(List<Sample> corpus, TargetModel model, int layers, int experts, Progress progress) {
        RoutingCounts total = new RoutingCounts(layers, experts);
        progress.start("routing corpus", corpus.size());
        for (Sample c : corpus) {
            total.add(model.route(c.text()));
            progress.advance(1);
        }
        progress.finish();
        return total;
    }
}
