package org.routecal.synth.select;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import org.routecal.synth.AppendLog;
import org.routecal.synth.SynthFiles;
import org.routecal.synth.TargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.AcceptanceRule;
import org.routecal.synth.accept.RoutingCounts;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code select}: the acceptance rule of synthesize over a local pool, no LLM. Every pool text is routed once; then a
 * lazy greedy pass repeatedly takes the candidate with the best deficit-gain per token (a gain only shrinks as the
 * corpus grows, so a stale score is an upper bound and only the top needs re-scoring) and asks the
 * {@link AcceptanceRule}; a rejected candidate stays rejected with its reason. Stops when no candidate has any gain
 * left or {@code maxAccepted} is reached.
 *
 * <p>Writes {@code selected.jsonl} (every pool row: {@code id, domain, n_tokens, routing_score, gain, accepted, reason,
 * order}), {@code selected_accepted.jsonl} (the accepted texts as a corpus: {@code sample_id, domain, text}) and
 * {@code select_metrics.json}.
 */
public final class SelectStage {
    private SelectStage() {}

    public record Result(int pool, int accepted, long deficitBefore, long deficitAfter, double minEntropyBefore,
                         double minEntropyAfter, double driftJs, Map<String, Integer> reasons, RoutingCounts counts, Path outDir) {
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
    public static Result run(List<CandidatePool.Candidate> original, RoutingCounts originalCounts, RoutingCounts current,
                             List<CandidatePool.Candidate> pool, TargetModel model, AcceptanceParams params, int maxAccepted,
                             int maxTokensPerSample, Path outDir, Progress progress) {
        if (pool.isEmpty()) throw new RoutecalException("the candidate pool is empty");
        AcceptanceRule rule = new AcceptanceRule(params, originalCounts);
        RoutingCounts counts = current.copy();
        long deficitBefore = counts.deficit(params.target());
        double entropyBefore = counts.minNormalizedEntropy();
        Set<String> seen = new HashSet<>();
        for (CandidatePool.Candidate c : original) seen.add(norm(c.text()));

        String[] reason = new String[pool.size()];
        int[] nTokens = new int[pool.size()], order = new int[pool.size()];
        double[] score = new double[pool.size()];
        long[] gain = new long[pool.size()];
        PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Double.compare(b.score, a.score) : Integer.compare(a.index, b.index));
        progress.start("select: routing pool", pool.size());
        for (int i = 0; i < pool.size(); i++) {
            CandidatePool.Candidate c = pool.get(i);
            progress.advance(1);
            if (c.text().isBlank()) { reason[i] = "empty"; continue; }
            if (!seen.add(norm(c.text()))) { reason[i] = "duplicate"; continue; }
            nTokens[i] = model.countTokens(c.text());
            if (nTokens[i] > maxTokensPerSample) { reason[i] = "too_long"; continue; }
            RoutingCounts rc = model.route(c.text());
            AcceptanceRule.Decision d = rule.decide(counts, rc);
            queue.add(new Entry(i, rc, d.score()));
        }
        progress.finish();
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
        StringBuilder rows = new StringBuilder(), corpus = new StringBuilder();
        Map<String, Integer> reasons = new TreeMap<>();
        for (int i = 0; i < pool.size(); i++) {
            CandidatePool.Candidate c = pool.get(i);
            reasons.merge(reason[i], 1, Integer::sum);
            ObjectNode n = AppendLog.JSON.createObjectNode();
            n.put("id", c.id()).put("domain", c.domain()).put("n_tokens", nTokens[i]).put("routing_score", score[i])
                    .put("gain", gain[i]).put("accepted", "accepted".equals(reason[i])).put("reason", reason[i]).put("order", order[i]);
            rows.append(n).append('\n');
            if ("accepted".equals(reason[i])) {
                corpus.append(AppendLog.JSON.createObjectNode().put("sample_id", "selected/" + c.id()).put("domain", c.domain())
                        .put("text", c.text())).append('\n');
            }
        }
        SynthFiles.writeString(outDir.resolve("selected.jsonl"), rows.toString());
        SynthFiles.writeString(outDir.resolve("selected_accepted.jsonl"), corpus.toString());
        double drift = counts.meanJsDivergence(originalCounts);
        Result r = new Result(pool.size(), accepted, deficitBefore, counts.deficit(params.target()), entropyBefore,
                counts.minNormalizedEntropy(), drift, reasons, counts, outDir);
        ObjectNode m = AppendLog.JSON.createObjectNode().put("format", "routecal.select_metrics").put("format_version", 1)
                .put("pool", r.pool()).put("accepted", accepted).put("target", params.target())
                .put("deficit_before", deficitBefore).put("deficit_after", r.deficitAfter())
                .put("min_entropy_before", entropyBefore).put("min_entropy_after", r.minEntropyAfter()).put("js_drift", drift);
        m.set("acceptance", AppendLog.JSON.valueToTree(params));
        m.set("reasons", AppendLog.JSON.valueToTree(reasons));
        SynthFiles.writeJson(outDir.resolve("select_metrics.json"), m);
        return r;
    }

    /** Counts of a whole corpus routed text by text. */
    public static RoutingCounts route(List<CandidatePool.Candidate> corpus, TargetModel model, int layers, int experts, Progress progress) {
        RoutingCounts total = new RoutingCounts(layers, experts);
        progress.start("routing corpus", corpus.size());
        for (CandidatePool.Candidate c : corpus) {
            if (!c.text().isBlank()) total.add(model.route(c.text()));
            progress.advance(1);
        }
        progress.finish();
        return total;
    }

    private static String norm(String s) { return s.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT); }
}
