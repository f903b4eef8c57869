package org.routecal.synth.synthesize;

import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import org.routecal.corpus.DedupKey;
import org.routecal.corpus.SampleMaker;
import org.routecal.io.Jsonl;
import org.routecal.route.RoutingCounts;
import org.routecal.synth.ChatTurns;
import org.routecal.synth.Personas;
import org.routecal.synth.PromptTemplates;
import org.routecal.synth.TargetModel;
import org.routecal.synth.accept.AcceptanceRule;
import org.routecal.synth.extract.BracketedSample;
import org.routecal.synth.extract.Guideline;
import org.routecal.synth.llm.LlmClient;
import org.routecal.synth.llm.LlmException;
import org.routecal.synth.llm.LlmResult;
import org.routecal.tokenize.ChatMessage;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Stage 3, synthesis: per (mode, domain) guideline, generate candidates with personas and few-shot examples, make
 * each a sample exactly as the corpus reader makes one ({@link SampleMaker}: the target's chat template, the corpus
 * options' {@code enable_thinking}, cut to the token limit), reject empty / unparseable / duplicate ones, route the
 * rest through the target model and keep those the {@link AcceptanceRule} accepts; top up until
 * {@code targetPerCombo} accepted, {@code maxCandidatesPerCombo} tried, or the LLM budget is spent.
 *
 * <p>Persistence: every decided candidate is appended (fsync) to {@code synthetic.jsonl} before the next decision.
 * Decisions are made on one thread in completion order, so the log order is the decision order; a resumed run
 * replays the log (accepted rows of this round are re-routed into the running counts), skips every key already there,
 * and continues — nothing is lost or decided twice. Killed mid-flight, at most the calls in flight are redone. A call
 * that fails for good (retries used up) is not a decision: no row, the key is retried by the next run; after
 * {@value #MAX_FAILURES_IN_A_ROW} such failures in a row the stage stops with an error that says to rerun.
 */
public final class SynthesizeStage {
    private SynthesizeStage() {}

    /** After this many calls in a row fail for good, the stage stops (the endpoint is down); a rerun resumes. */
    static final int MAX_FAILURES_IN_A_ROW = 3;

    /** Totals of one run over all combos (rows of this round, resumed ones included). */
    /** {@code cut}: candidates of this run cut to the token limit (kept, shortened; see {@link SampleMaker}). */
    public record Result(Path log, int rows, int accepted, Map<String, Integer> reasons, Map<String, Integer> acceptedPerCombo,
                         long deficitBefore, long deficitAfter, RoutingCounts counts, int cut) {
        @Override public String toString() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "synthesize: %d candidates, %d accepted, %d cut to the token limit; deficit %d → %d%n",
                    rows, accepted, cut, deficitBefore, deficitAfter));
            acceptedPerCombo.forEach((k, v) -> sb.append("  ").append(k).append(": ").append(v).append(" accepted\n"));
            sb.append("  reasons: ").append(reasons).append("\n  log: ").append(log);
            return sb.toString();
        }
    }

    private record Generated(int index, String persona, List<String> fewshotIds, LlmResult result, LlmException error) {}

    /**
     * {@code current}: routing counts of the corpus this round starts from (original + rows accepted in earlier rounds);
     * not modified. {@code original}: the original corpus's counts (the acceptance rule's reference distribution).
     */
    public static Result run(SynthesizeParams p, TargetModel model, RoutingCounts original, RoutingCounts current, Progress progress) {
        List<Guideline> guidelines = Guideline.readAll(p.guidelinesDir());
        if (guidelines.isEmpty()) throw new RoutecalException("no guidelines in " + p.guidelinesDir() + " (run extract first)");
        Path logFile = p.outDir().resolve("synthetic.jsonl");
        AcceptanceRule rule = new AcceptanceRule(p.acceptance(), original);
        RoutingCounts counts = current.copy();
        long deficitBefore = counts.deficit(p.acceptance().target());
        SampleMaker samples = SampleMaker.of(model.codec(), p.corpus());
        int[] cut = {0};

        // Replay: keys done, texts seen, this round's accepted rows back into the counts.
        Map<String, SyntheticRow> done = new HashMap<>();
        Set<String> seenTexts = new HashSet<>();
        List<SyntheticRow> previous = SyntheticRow.readLog(logFile);
        for (SyntheticRow r : previous) {
            done.put(r.key(), r);
            if (r.seedAugmentation() != null) seenTexts.add(DedupKey.of(r.seedAugmentation()));
            if (r.round() == p.round() && r.accepted()) counts.add(model.route(r.text()));
        }

        PromptTemplates templates = new PromptTemplates(p.promptDir());
        Personas personas = new Personas(templates);
        String template = templates.load("synthesize.md");
        progress.start("synthesize", (long) guidelines.size() * p.targetPerCombo());
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, p.llm().maxConcurrency()), r -> {
            Thread t = new Thread(r, "synthesize");
            t.setDaemon(true);
            return t;
        });
        try (LlmClient llm = LlmClient.create(p.llm(), p.outDir().resolve("llm_calls.jsonl"));
             Jsonl.Appender log = Jsonl.appender(logFile)) {
            for (Guideline g : guidelines) {
                String combo = g.mode() + "/" + g.domain();
                int accepted = (int) done.values().stream().filter(r -> r.round() == p.round() && r.accepted()
                        && r.mode().equals(g.mode()) && r.domain().equals(g.domain())).count();
                progress.advance(Math.min(accepted, p.targetPerCombo()));
                List<String> domainPersonas = personas.of(g.domain());
                ExecutorCompletionService<Generated> ecs = new ExecutorCompletionService<>(pool);
                int next = 0, inFlight = 0;
                boolean budgetOut = false;
                int failuresInARow = 0;
                String lastFailure = null;
                while (true) {
                    // keep the pool full while more accepted rows are wanted
                    while (!budgetOut && failuresInARow < MAX_FAILURES_IN_A_ROW && inFlight < p.llm().maxConcurrency() && accepted + inFlight < p.targetPerCombo()
                            && next < p.maxCandidatesPerCombo()) {
                        int index = next++;
                        if (done.containsKey(SyntheticRow.key(g.mode(), g.domain(), p.round(), index))) continue;
                        ecs.submit(() -> generate(p, g, template, templates, domainPersonas, llm, index));
                        inFlight++;
                    }
                    if (inFlight == 0) break;
                    Generated gen = take(ecs);
                    inFlight--;
                    if (gen.error() != null && gen.error().kind() == LlmException.Kind.BUDGET_EXHAUSTED) {
                        budgetOut = true; // not a decision: the key stays free for a later run with more budget
                        continue;
                    }
                    if (gen.error() != null) {
                        // retries used up: not a decision either (the attempts are in llm_calls.jsonl); a rerun retries the key
                        failuresInARow++;
                        lastFailure = gen.error().getMessage();
                        continue;
                    }
                    failuresInARow = 0;
                    SyntheticRow row = decide(p, g, gen, model, samples, rule, counts, seenTexts, accepted >= p.targetPerCombo(), cut);
                    log.append(row.toJson());
                    done.put(row.key(), row);
                    if (row.accepted()) {
                        accepted++;
                        progress.advance(1);
                    }
                }
                if (budgetOut) progress.message(combo + ": LLM budget exhausted at " + accepted + " accepted");
                if (failuresInARow >= MAX_FAILURES_IN_A_ROW) {
                    SyntheticExport.write(p.outDir(), SyntheticRow.readLog(logFile));
                    throw new RoutecalException(combo + ": " + failuresInARow + " LLM calls in a row failed after retries (last: "
                            + lastFailure + "); every decided row is in " + logFile + ", rerun the same command to resume");
                }
            }
        } finally {
            pool.shutdownNow();
        }
        progress.finish();
        List<SyntheticRow> all = SyntheticRow.readLog(logFile);
        SyntheticExport.write(p.outDir(), all);
        return summarize(logFile, all, p.round(), deficitBefore, counts, p.acceptance().target(), cut[0]);
    }

    private static Generated take(ExecutorCompletionService<Generated> ecs) {
        try {
            Future<Generated> f = ecs.take();
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RoutecalException("synthesize interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            throw new RoutecalException("generation failed: " + e.getCause(), e.getCause());
        }
    }

    /** One generation call; persona and examples are a pure function of (seed, key). Runs on a pool thread. */
    private static Generated generate(SynthesizeParams p, Guideline g, String template, PromptTemplates templates,
                                      List<String> personas, LlmClient llm, int index) {
        String key = SyntheticRow.key(g.mode(), g.domain(), p.round(), index);
        Random rnd = new Random(p.seed() * 1_000_003L + key.hashCode());
        String persona = personas.get(rnd.nextInt(personas.size()));
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < g.examples().size(); i++) order.add(i);
        java.util.Collections.shuffle(order, rnd);
        List<String> ids = new ArrayList<>();
        StringBuilder examples = new StringBuilder();
        for (int i = 0; i < Math.min(p.fewShot(), order.size()); i++) {
            int e = order.get(i);
            String plain = new BracketedSample(g.domain(), "", g.mode(), 0, 0, 0, g.examples().get(e)).plainText();
            if (plain.length() > p.fewShotChars()) plain = plain.substring(0, p.fewShotChars()) + " […]";
            examples.append("--- Reference example ").append(i + 1).append(" ---\n").append(plain).append("\n--- end of example ---\n\n");
            ids.add(e < g.exampleIds().size() ? g.exampleIds().get(e) : String.valueOf(e));
        }
        String prompt = PromptTemplates.fill("synthesize.md", template, Map.of("domain", g.domain(),
                "domain_context", templates.domainContext(g.domain()), "persona", persona, "guideline", g.text(),
                "examples", examples.length() == 0 ? "(none)" : examples.toString().strip()));
        try {
            LlmResult r = llm.chat(key, List.of(ChatMessage.user(prompt)), p.llmParams());
            return new Generated(index, persona, ids, r, null);
        } catch (LlmException e) {
            if (e.kind() == LlmException.Kind.NOT_RETRIABLE) throw e;
            return new Generated(index, persona, ids, null, e);
        }
    }

    /** The verdict on one generated candidate; updates {@code counts} and {@code seen} when accepted. */
    private static SyntheticRow decide(SynthesizeParams p, Guideline g, Generated gen, TargetModel model, SampleMaker samples,
                                       AcceptanceRule rule, RoutingCounts counts, Set<String> seen, boolean targetReached, int[] cut) {
        String key = SyntheticRow.key(g.mode(), g.domain(), p.round(), gen.index());
        String callId = gen.result() == null ? null : gen.result().callId();
        String raw = gen.result().content();
        if (raw.isBlank()) return reject(p, g, gen, raw, null, 0, 0, "empty", callId);
        if (!seen.add(DedupKey.of(raw))) return reject(p, g, gen, raw, null, 0, 0, "duplicate", callId);
        List<ChatMessage> turns = ChatTurns.parse(raw);
        if (turns.isEmpty()) return reject(p, g, gen, raw, null, 0, 0, "bad_format", callId);
        SampleMaker.Made made = samples.make(key, g.domain(), samples.render(turns), "candidate " + key);
        if (made.cut()) cut[0]++;
        String text = made.sample().text();
        int nTokens = made.sample().tokens();
        double quality = ChatTurns.sectionScore(turns);
        if (targetReached) return reject(p, g, gen, raw, text, quality, nTokens, "target_reached", callId);
        RoutingCounts c = model.route(text);
        AcceptanceRule.Decision d = rule.decide(counts, c);
        if (d.accepted()) counts.add(c);
        return new SyntheticRow(key, g.mode(), g.domain(), p.round(), gen.index(), gen.persona(), raw, text, quality, nTokens,
                d.score(), (long) d.gain(), d.candidateJs(), d.corpusJs(), d.accepted(), d.reason(), gen.fewshotIds(), callId);
    }

    private static SyntheticRow reject(SynthesizeParams p, Guideline g, Generated gen, String raw, String text, double quality,
                                       int nTokens, String reason, String callId) {
        return new SyntheticRow(SyntheticRow.key(g.mode(), g.domain(), p.round(), gen.index()), g.mode(), g.domain(), p.round(),
                gen.index(), gen.persona(), raw, text, quality, nTokens, Double.NaN, 0, Double.NaN, Double.NaN, false, reason,
                gen.fewshotIds(), callId);
    }

    private static Result summarize(Path log, List<SyntheticRow> all, int round, long deficitBefore, RoutingCounts counts, long target, int cut) {
        Map<String, Integer> reasons = new TreeMap<>(), perCombo = new TreeMap<>();
        int rows = 0, accepted = 0;
        for (SyntheticRow r : all) {
            if (r.round() != round) continue;
            rows++;
            reasons.merge(r.reason(), 1, Integer::sum);
            if (r.accepted()) {
                accepted++;
                perCombo.merge(r.mode() + "/" + r.domain(), 1, Integer::sum);
            }
        }
        return new Result(log, rows, accepted, reasons, perCombo, deficitBefore, counts.deficit(target), counts, cut);
    }
}
