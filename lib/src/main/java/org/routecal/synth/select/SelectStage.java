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
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.TargetModel;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.AcceptanceRule;
import org.routecal.synth.accept.DeficitObjective;
import org.routecal.synth.accept.SelectionObjective;
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.accept.UsageObjective;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code select}: add text to the original corpus by one {@link Objective}, no LLM. The original corpus and the pool
 * are samples of the one corpus reader ({@link org.routecal.corpus.Corpus}: rendered and cut exactly as route and
 * quantize see them).
 * <ul>
 *   <li>{@code usage}, {@code deficit} (greedy): every pool sample is routed once; a lazy greedy pass repeatedly takes
 *       the candidate with the best gain per token (gains only shrink as the corpus grows, so a stale score is an upper
 *       bound and only the top needs re-scoring) and asks the objective. A candidate refused for a reason that can
 *       change as the corpus grows ({@code domain_drift}) waits and is offered again after the next acceptance; other
 *       refusals are final.</li>
 *   <li>{@code stratified}: pool samples in random order (seeded), drawn domain by domain in the original corpus's
 *       domain mix until the budget.</li>
 *   <li>{@code self-sample}: the model's own generations ({@link SelfSampler}) until the budget.</li>
 * </ul>
 * Every objective stops at the token budget (tokens added to the original in total, earlier rounds included:
 * {@link SelectionOptions#budgetTokens}, else {@code --max-added-token-ratio} × the original's tokens), at
 * {@code maxAccepted} texts, or when nothing is left.
 *
 * <p>Writes {@code selected.jsonl} (every candidate: {@code id, domain, n_tokens, routing_score, gain, accepted, reason,
 * order}), {@code selected_accepted.jsonl} (the accepted texts as a corpus, in the order accepted: {@code sample_id,
 * domain, text}) and {@code select_metrics.json}; the caller writes the manifest ({@link #results}).
 */
public final class SelectStage {
    private SelectStage() {}

    public record Result(int pool, int accepted, long deficitBefore, long deficitAfter, double minEntropyBefore,
                         double minEntropyAfter, double driftJs, Map<String, Integer> reasons, RoutingCounts counts, Path outDir,
                         String objective, double objectiveBefore, double objectiveAfter, long addedTokens, SelectionState state,
                         Map<String, Double> timings) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "select (%s): %d of %d candidates accepted, %d tokens added; objective %.5f → %.5f; deficit %d → %d; "
                    + "min layer entropy %.4f → %.4f; JS drift from original %.4f bits%n  reasons: %s%n  out: %s", objective, accepted, pool,
                    addedTokens, objectiveBefore, objectiveAfter, deficitBefore, deficitAfter, minEntropyBefore, minEntropyAfter, driftJs, reasons, outDir);
        }
    }

    /**
     * How to select: the objective flags, the acceptance caps, at most {@code maxAccepted} texts (0: no limit), and the
     * seed of the stratified order and self-sampling.
     */
    public record Options(SelectionOptions selection, AcceptanceParams acceptance, int maxAccepted, long seed) {
        /** The greedy deficit rule with no budget beyond the acceptance caps (the rule before objectives existed). */
        public static Options deficit(AcceptanceParams acceptance, int maxAccepted) {
            return new Options(SelectionOptions.of(Objective.DEFICIT), acceptance, maxAccepted, 0);
        }

        public Objective objective() { return selection.objective(); }
    }

    /** Real use, as a corpus routes: its counts and its tokens per domain (the usage objective's weights, the stratified mix). */
    public record Usage(RoutingCounts counts, Map<String, Long> domainTokens) {}

    private static final class Entry {
        final int index;
        final RoutingCounts counts;
        double score;
        Entry(int index, RoutingCounts counts, double score) { this.index = index; this.counts = counts; this.score = score; }
    }

    /** Routes candidate texts and keeps the time it took (the manifest's {@code route_pool}). */
    private static final class TimedRouter {
        final TargetModel model;
        long nanos;
        TimedRouter(TargetModel model) { this.model = model; }

        RoutingCounts route(String text) {
            long t0 = System.nanoTime();
            RoutingCounts rc = model.route(text);
            nanos += System.nanoTime() - t0;
            return rc;
        }
    }

    /**
     * The deficit rule: {@code original}: the corpus the selection adds to (its texts are also the duplicate
     * reference); {@code current}: its counts plus anything accepted earlier (usually the same as the original's counts).
     */
    public static Result run(List<Sample> original, RoutingCounts originalCounts, RoutingCounts current, List<Sample> pool,
                             TargetModel model, AcceptanceParams params, int maxAccepted, Path outDir, Progress progress) {
        Usage usage = new Usage(originalCounts, domainTokens(original));
        SelectionState state = SelectionState.original(originalCounts, usage.domainTokens());
        long[][] extra = new long[current.layers()][current.experts()];
        for (int l = 0; l < extra.length; l++) for (int e = 0; e < extra[l].length; e++) extra[l][e] = current.get(l, e) - originalCounts.get(l, e);
        if (current.tokens() != originalCounts.tokens()) state.add(RoutingCounts.of(extra, current.tokens() - originalCounts.tokens()), "earlier");
        return run(original, originalCounts, state, usage, pool, model, Options.deficit(params, maxAccepted), outDir, progress);
    }

    /**
     * Selects from {@code pool} (or generates, for self-sample) into {@code current} (the original corpus plus what
     * was accepted earlier; copied). {@code original}: the corpus the selection adds to (its texts are also the
     * duplicate reference and the self-sample prompts); {@code usage}: real use (usually the original corpus).
     */
    public static Result run(List<Sample> original, RoutingCounts originalCounts, SelectionState current, Usage usage,
                             List<Sample> pool, TargetModel model, Options o, Path outDir, Progress progress) {
        long t0 = System.nanoTime();
        AcceptanceParams params = o.acceptance();
        SelectionOptions sel = o.selection();
        SelectionState state = current.copy();
        UsageObjective usageObjective = new UsageObjective(usage.counts(), usage.domainTokens(), params.target(), sel.maxDomainDrift(),
                params.maxAddedTokenRatio());
        SelectionObjective objective = o.objective() == Objective.DEFICIT ? new DeficitObjective(params, originalCounts) : usageObjective;
        long budget = sel.budgetTokens() > 0 ? sel.budgetTokens()
                : params.maxAddedTokenRatio() > 0 ? (long) (params.maxAddedTokenRatio() * state.originalTokens()) : Long.MAX_VALUE;
        long deficitBefore = state.counts().deficit(params.target());
        double entropyBefore = state.counts().minNormalizedEntropy(), valueBefore = objective.value(state);
        Map<String, Double> timings = new LinkedHashMap<>();

        List<Sample> candidates = pool;
        if (o.objective() == Objective.SELF_SAMPLE) {
            if (!(model instanceof ModelTargetModel m)) throw new RoutecalException("--objective self-sample needs the target model itself to generate");
            if (budget == Long.MAX_VALUE) throw new RoutecalException("--objective self-sample needs --budget-tokens or --max-added-token-ratio");
            List<SelfSampler.Generated> gen = new SelfSampler(m.model(), m.codec()).generate(original, state.counts(),
                    budget - state.addedTokens(), sel.selfSample(), o.seed(), progress);
            candidates = gen.stream().map(g -> new Sample(g.id(), g.domain(), g.text(), m.codec().encode(g.text()))).toList();
            timings.put("self_sample", (System.nanoTime() - t0) / 1e9);
        } else if (pool.isEmpty()) {
            throw new RoutecalException("the candidate pool is empty");
        }
        long tSelect = System.nanoTime();
        TimedRouter router = new TimedRouter(model);
        int size = candidates.size();
        String[] reason = new String[size];
        int[] order = new int[size];
        double[] score = new double[size], gain = new double[size];
        Set<String> seen = new HashSet<>();
        for (Sample c : original) seen.add(DedupKey.of(c.text()));
        boolean[] eligible = new boolean[size];
        for (int i = 0; i < size; i++) {
            Sample c = candidates.get(i);
            if (c.text().isBlank()) reason[i] = "empty"; // a generation can decode to whitespace; the reader refuses blank rows
            else if (!seen.add(DedupKey.of(c.text()))) reason[i] = "duplicate";
            else eligible[i] = true;
        }
        long addedAtStart = state.addedTokens();
        int accepted = 0;
        switch (o.objective()) {
            case USAGE, DEFICIT -> accepted = greedy(candidates, eligible, router, objective, state, o, budget, reason, score, gain, order, progress);
            case STRATIFIED -> accepted = stratified(candidates, eligible, router, usage, state, o, budget, reason, order, progress);
            case SELF_SAMPLE -> {
                for (int i = 0; i < size; i++) {
                    if (!eligible[i]) continue;
                    if (o.maxAccepted() > 0 && accepted >= o.maxAccepted()) { reason[i] = "max_accepted"; continue; }
                    if (state.addedTokens() + candidates.get(i).tokens() > budget) { reason[i] = "budget"; continue; }
                    RoutingCounts rc = router.route(candidates.get(i).text());
                    gain[i] = usageObjective.gain(state.counts(), rc);
                    score[i] = rc.tokens() == 0 ? 0 : gain[i] / rc.tokens();
                    state.add(rc, candidates.get(i).domain());
                    reason[i] = "accepted";
                    order[i] = ++accepted;
                }
            }
        }
        for (int i = 0; i < size; i++) if (reason[i] == null) reason[i] = "not_drawn";

        List<ObjectNode> rows = new ArrayList<>();
        Map<String, Integer> reasons = new TreeMap<>();
        for (int i = 0; i < size; i++) {
            Sample c = candidates.get(i);
            reasons.merge(reason[i], 1, Integer::sum);
            rows.add(Json.MAPPER.createObjectNode().put("id", c.sampleId()).put("domain", c.domain()).put("n_tokens", c.tokens())
                    .put("routing_score", score[i]).put("gain", gain[i]).put("accepted", "accepted".equals(reason[i]))
                    .put("reason", reason[i]).put("order", order[i]));
        }
        List<Integer> byOrder = new ArrayList<>();
        for (int i = 0; i < size; i++) if (order[i] > 0) byOrder.add(i);
        byOrder.sort((a, b) -> Integer.compare(order[a], order[b]));
        try (CorpusWriter corpus = CorpusWriter.open(outDir.resolve("selected_accepted.jsonl"))) {
            for (int i : byOrder) corpus.writeText("selected/" + candidates.get(i).sampleId(), candidates.get(i).domain(), candidates.get(i).text());
        }
        Jsonl.write(outDir.resolve("selected.jsonl"), rows);
        RoutingCounts counts = state.counts();
        double drift = counts.meanJsDivergence(originalCounts);
        timings.put("route_pool", router.nanos / 1e9);
        timings.put("select", (System.nanoTime() - tSelect - router.nanos) / 1e9);
        Result r = new Result(size, accepted, deficitBefore, counts.deficit(params.target()), entropyBefore, counts.minNormalizedEntropy(),
                drift, reasons, counts, outDir, o.objective().id(), valueBefore, objective.value(state), state.addedTokens() - addedAtStart, state,
                timings);
        ObjectNode m = Json.MAPPER.createObjectNode().put("format", "routecal.select_metrics").put("format_version", 2)
                .put("objective", r.objective()).put("objective_before", valueBefore).put("objective_after", r.objectiveAfter())
                .put("pool", r.pool()).put("accepted", accepted).put("added_tokens", r.addedTokens()).put("target", params.target())
                .put("deficit_before", deficitBefore).put("deficit_after", r.deficitAfter())
                .put("min_entropy_before", entropyBefore).put("min_entropy_after", r.minEntropyAfter()).put("js_drift", drift)
                .put("domain_drift_tv", usageObjective.drift(state.domainTokens()));
        m.set("acceptance", Json.MAPPER.valueToTree(params));
        m.set("reasons", Json.MAPPER.valueToTree(reasons));
        m.set("domain_tokens", Json.MAPPER.valueToTree(state.domainTokens()));
        AtomicFiles.writeJson(outDir.resolve("select_metrics.json"), m);
        return r;
    }

    /** The result's numbers for a manifest's results. */
    public static Map<String, Object> results(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("objective", r.objective());
        m.put("pool", r.pool());
        m.put("accepted", r.accepted());
        m.put("added_tokens", r.addedTokens());
        m.put("objective_before", r.objectiveBefore());
        m.put("objective_after", r.objectiveAfter());
        m.put("deficit_before", r.deficitBefore());
        m.put("deficit_after", r.deficitAfter());
        m.put("min_entropy_before", r.minEntropyBefore());
        m.put("min_entropy_after", r.minEntropyAfter());
        m.put("js_drift", r.driftJs());
        m.put("reasons", r.reasons());
        return m;
    }

    /** The lazy greedy over eligible candidates; returns how many were accepted. */
    private static int greedy(List<Sample> pool, boolean[] eligible, TimedRouter router, SelectionObjective objective,
                              SelectionState state, Options o, long addedLimit, String[] reason, double[] score, double[] gain, int[] order,
                              Progress progress) {
        PriorityQueue<Entry> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Double.compare(b.score, a.score) : Integer.compare(a.index, b.index));
        progress.start("select: routing pool", pool.size());
        for (int i = 0; i < pool.size(); i++) {
            progress.advance(1);
            if (!eligible[i]) continue;
            RoutingCounts rc = router.route(pool.get(i).text());
            queue.add(new Entry(i, rc, objective.decide(state, rc, pool.get(i).domain()).score()));
        }
        progress.finish();
        Deque<Entry> waiting = new ArrayDeque<>();
        int accepted = 0;
        while (!queue.isEmpty()) {
            Entry top = queue.poll();
            String domain = pool.get(top.index).domain();
            AcceptanceRule.Decision d = objective.decide(state, top.counts, domain);
            if (!queue.isEmpty() && d.score() < queue.peek().score) { // stale: re-queue with its true score
                top.score = d.score();
                queue.add(top);
                continue;
            }
            score[top.index] = d.score();
            gain[top.index] = d.gain();
            if (o.maxAccepted() > 0 && accepted >= o.maxAccepted()) { reason[top.index] = "max_accepted"; continue; }
            if (state.addedTokens() + top.counts.tokens() > addedLimit) { reason[top.index] = "budget"; continue; }
            reason[top.index] = d.reason();
            if (d.accepted()) {
                state.add(top.counts, domain);
                order[top.index] = ++accepted;
                for (Entry w : waiting) { // the corpus changed: what waited on the domain mix may fit now
                    reason[w.index] = null;
                    queue.add(w);
                }
                waiting.clear();
            } else if (d.reason().equals("domain_drift")) {
                top.score = d.score();
                waiting.add(top);
            }
        }
        return accepted;
    }

    /**
     * "More of the same": eligible samples in seeded random order, drawn from the domain furthest below its share of
     * the added tokens (shares from the usage corpus's domain mix) until the budget. Pool domains absent from that mix
     * are never drawn.
     */
    private static int stratified(List<Sample> pool, boolean[] eligible, TimedRouter router, Usage usage, SelectionState state, Options o,
                                  long addedLimit, String[] reason, int[] order, Progress progress) {
        if (addedLimit == Long.MAX_VALUE) throw new RoutecalException("--objective stratified needs --budget-tokens or --max-added-token-ratio");
        long mixTotal = usage.domainTokens().values().stream().mapToLong(Long::longValue).sum();
        Map<String, Deque<Integer>> byDomain = new LinkedHashMap<>();
        List<Integer> shuffled = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) if (eligible[i]) shuffled.add(i);
        Collections.shuffle(shuffled, new Random(o.seed()));
        for (int i : shuffled) {
            if (usage.domainTokens().getOrDefault(pool.get(i).domain(), 0L) > 0) byDomain.computeIfAbsent(pool.get(i).domain(), k -> new ArrayDeque<>()).add(i);
        }
        Map<String, Long> drawn = new LinkedHashMap<>();
        long start = state.addedTokens(), quota = addedLimit - start;
        int accepted = 0;
        progress.start("select: stratified draw", quota);
        while (true) {
            String best = null;
            double bestRoom = 0;
            for (Map.Entry<String, Deque<Integer>> e : byDomain.entrySet()) {
                if (e.getValue().isEmpty()) continue;
                double room = quota * (double) usage.domainTokens().get(e.getKey()) / mixTotal - drawn.getOrDefault(e.getKey(), 0L);
                if (room > bestRoom) { best = e.getKey(); bestRoom = room; }
            }
            if (best == null || (o.maxAccepted() > 0 && accepted >= o.maxAccepted())) break;
            int i = byDomain.get(best).poll();
            if (state.addedTokens() + pool.get(i).tokens() > addedLimit) { reason[i] = "budget"; continue; }
            RoutingCounts rc = router.route(pool.get(i).text());
            state.add(rc, best);
            drawn.merge(best, rc.tokens(), Long::sum);
            reason[i] = "accepted";
            order[i] = ++accepted;
            progress.advance(rc.tokens());
        }
        progress.finish();
        return accepted;
    }

    /** Counts of a whole corpus routed text by text. */
    public static RoutingCounts route(List<Sample> corpus, TargetModel model, int layers, int experts, Progress progress) {
        return measure(corpus, model, layers, experts, progress).counts();
    }

    /** Counts and tokens per domain of a whole corpus routed text by text. */
    public static Usage measure(List<Sample> corpus, TargetModel model, int layers, int experts, Progress progress) {
        RoutingCounts total = new RoutingCounts(layers, experts);
        Map<String, Long> domains = new LinkedHashMap<>();
        progress.start("routing corpus", corpus.size());
        for (Sample c : corpus) {
            RoutingCounts rc = model.route(c.text());
            total.add(rc);
            domains.merge(c.domain(), rc.tokens(), Long::sum);
            progress.advance(1);
        }
        progress.finish();
        return new Usage(total, domains);
    }

    private static Map<String, Long> domainTokens(List<Sample> corpus) {
        Map<String, Long> d = new LinkedHashMap<>();
        for (Sample c : corpus) d.merge(c.domain(), (long) c.tokens(), Long::sum);
        return d;
    }
}
