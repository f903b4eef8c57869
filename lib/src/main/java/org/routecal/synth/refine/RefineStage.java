package org.routecal.synth.refine;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import org.routecal.synth.AppendLog;
import org.routecal.synth.SynthFiles;
import org.routecal.synth.TargetModel;
import org.routecal.synth.accept.RoutingCounts;
import org.routecal.synth.select.CandidatePool;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.synthesize.SynthesizeParams;
import org.routecal.synth.synthesize.SynthesizeStage;
import org.routecal.synth.synthesize.SyntheticRow;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The loop: route → check the {@link StopRule} → (select from the pool | bracket + extract + synthesize) → merge →
 * repeat. In LLM mode without fixed guidelines, every round brackets the corpus as it stands against the current
 * deficit ({@code round_<r>/bracketed_balance.jsonl}) and extracts fresh guidelines ({@code round_<r>/guidelines/}).
 *
 * <p>The original corpus is never replaced: each round adds accepted texts to it, and the acceptance rule measures
 * every candidate against the original routing distribution (PIPELINE.md's evidence: coverage-only selection hurt).
 * Outputs in {@code outDir}: {@code round_<r>/} (the round's stage outputs and {@code manifest.json}),
 * {@code refine_metrics.jsonl} (one row per round, round 0 = the original corpus), {@code compound.jsonl} (original +
 * accepted, rewritten atomically after every round), {@code refine_report.html}.
 */
public final class RefineStage {
    private RefineStage() {}

    public record Result(int rounds, String stopReason, long deficitStart, long deficitEnd, double minEntropyStart,
                         double minEntropyEnd, int added, Path outDir) {
        @Override public String toString() {
            return String.format(Locale.ROOT, "refine: %d rounds, stopped: %s; deficit %d → %d; min layer entropy %.4f → %.4f; "
                    + "%d texts added%n  compound corpus: %s", rounds, stopReason, deficitStart, deficitEnd, minEntropyStart,
                    minEntropyEnd, added, outDir.resolve("compound.jsonl"));
        }
    }

    private record Added(String sampleId, String domain, String text, String source, int round) {}

    public static Result run(RefineParams p, TargetModel model, int layers, int experts, Progress progress) {
        if ((p.pool() == null) == (p.synthesize() == null)) throw new RoutecalException("refine needs exactly one of --pool or an LLM endpoint");
        List<CandidatePool.Candidate> original = CandidatePool.read(p.corpus(), model);
        RoutingCounts originalCounts = SelectStage.route(original, model, layers, experts, progress);
        List<CandidatePool.Candidate> pool = p.pool() == null ? List.of() : CandidatePool.read(p.pool(), model);
        RoutingCounts current = originalCounts.copy();
        long target = p.acceptance().target();
        List<Long> deficits = new ArrayList<>(List.of(current.deficit(target)));
        List<Double> entropies = new ArrayList<>(List.of(current.minNormalizedEntropy()));
        List<Added> added = new ArrayList<>();
        Path metricsFile = p.outDir().resolve("refine_metrics.jsonl");
        SynthFiles.writeString(metricsFile, ""); // a fresh run rewrites the per-round table
        try (AppendLog metrics = AppendLog.open(metricsFile)) {
            metrics.append(metricsRow(0, "original", 0, added.size(), current, originalCounts, target, null));
            String stop;
            int round = 0;
            while ((stop = p.stop().check(current, deficits, round)) == null) {
                round++;
                long t0 = System.nanoTime();
                Path roundDir = p.outDir().resolve("round_" + round);
                int before = added.size();
                String source;
                if (p.pool() != null) {
                    source = "select";
                    Set<String> taken = new HashSet<>();
                    added.forEach(a -> taken.add(a.sampleId()));
                    List<CandidatePool.Candidate> remaining = pool.stream().filter(c -> !taken.contains("selected/" + c.id())).toList();
                    if (remaining.isEmpty()) { stop = "pool_exhausted"; round--; break; }
                    List<CandidatePool.Candidate> reference = new ArrayList<>(original);
                    added.forEach(a -> reference.add(new CandidatePool.Candidate(a.sampleId(), a.domain(), a.text())));
                    SelectStage.Result r = SelectStage.run(reference, originalCounts, current, remaining, model, p.acceptance(),
                            p.perRound(), p.maxTokensPerSample(), roundDir, progress);
                    current = r.counts();
                    for (var n : AppendLog.read(roundDir.resolve("selected_accepted.jsonl"))) {
                        added.add(new Added(n.get("sample_id").asText(), n.get("domain").asText(), n.get("text").asText(), "selected", round));
                    }
                } else {
                    source = "synthesize";
                    SynthesizeParams s = p.synthesize();
                    Path guidelines = s.guidelinesDir() != null ? s.guidelinesDir()
                            : reExtract(p, model, original, added, current, target, roundDir, progress);
                    SynthesizeParams sp = new SynthesizeParams(p.outDir(), guidelines, round, p.perRound(), s.maxCandidatesPerCombo(),
                            p.maxTokensPerSample(), s.fewShot(), s.fewShotChars(), s.seed(), s.promptDir(), s.llm(), s.llmParams(), p.acceptance());
                    SynthesizeStage.Result r = SynthesizeStage.run(sp, model, originalCounts, current, progress);
                    current = r.counts();
                    for (SyntheticRow row : SyntheticRow.readLog(r.log())) {
                        if (row.round() == round && row.accepted()) {
                            added.add(new Added("synthetic/" + row.key(), row.domain(), row.text(), "synthetic", round));
                        }
                    }
                }
                deficits.add(current.deficit(target));
                entropies.add(current.minNormalizedEntropy());
                writeCompound(p.outDir(), original, added);
                ObjectNode row = metricsRow(round, source, added.size() - before, added.size(), current, originalCounts, target, null);
                metrics.append(row);
                writeManifest(roundDir, p, round, source, row, (System.nanoTime() - t0) / 1e9);
                progress.message(String.format(Locale.ROOT, "round %d: +%d texts, deficit %d, min entropy %.4f",
                        round, added.size() - before, deficits.get(deficits.size() - 1), entropies.get(entropies.size() - 1)));
            }
            metrics.append(metricsRow(round, "stop", 0, added.size(), current, originalCounts, target, stop));
            writeCompound(p.outDir(), original, added);
            RefineChart.write(p.outDir(), deficits, entropies, target);
            return new Result(round, stop, deficits.get(0), deficits.get(deficits.size() - 1), entropies.get(0),
                    entropies.get(entropies.size() - 1), added.size(), p.outDir());
        }
    }

    /**
     * Brackets the corpus as it stands against the current deficit (balance mode) and extracts fresh guidelines from it,
     * so each round's prompts describe the slots still short, not those of round 1.
     */
    private static Path reExtract(RefineParams p, TargetModel model, List<CandidatePool.Candidate> original, List<Added> added,
                                  RoutingCounts current, long target, Path roundDir, Progress progress) {
        StringBuilder sb = new StringBuilder();
        List<CandidatePool.Candidate> all = new ArrayList<>(original);
        added.forEach(a -> all.add(new CandidatePool.Candidate(a.sampleId(), a.domain(), a.text())));
        for (CandidatePool.Candidate c : all) {
            if (c.text().isBlank()) continue;
            org.routecal.route.Brackets.Tagged t = model.bracket(c.text(), current, target);
            sb.append(AppendLog.JSON.createObjectNode().put("domain", c.domain()).put("sample_id", c.id()).put("mode", "balance")
                    .put("n_tokens_total", t.tokens()).put("n_tokens_blue", t.blueTokens()).put("n_tokens_red", t.redTokens())
                    .put("text", t.text())).append('\n');
        }
        Path bracketed = roundDir.resolve("bracketed_balance.jsonl");
        SynthFiles.writeString(bracketed, sb.toString());
        SynthesizeParams s = p.synthesize();
        org.routecal.synth.extract.ExtractStage.run(new org.routecal.synth.extract.ExtractParams(List.of(bracketed), roundDir, Set.of(),
                8, 1500, 3, 3, 25, s.seed(), s.promptDir(), s.llm(),
                new org.routecal.synth.llm.LlmParams(0.6, null, 4096, null, java.util.Map.of())), progress);
        return roundDir.resolve("guidelines");
    }

    private static ObjectNode metricsRow(int round, String source, int addedThisRound, int addedTotal, RoutingCounts c,
                                         RoutingCounts original, long target, String stop) {
        ObjectNode n = AppendLog.JSON.createObjectNode().put("round", round).put("source", source)
                .put("added", addedThisRound).put("added_total", addedTotal).put("tokens", c.tokens())
                .put("deficit", c.deficit(target)).put("slots_below_target", slotsBelow(c, target)).put("min_count", c.minCount())
                .put("min_entropy", c.minNormalizedEntropy()).put("mean_entropy", meanEntropy(c)).put("js_drift", c.meanJsDivergence(original));
        if (stop != null) n.put("stop_reason", stop);
        return n;
    }

    private static int slotsBelow(RoutingCounts c, long target) {
        int n = 0;
        for (int l = 0; l < c.layers(); l++) for (int e = 0; e < c.experts(); e++) if (c.get(l, e) < target) n++;
        return n;
    }

    private static double meanEntropy(RoutingCounts c) {
        double s = 0;
        for (int l = 0; l < c.layers(); l++) s += c.normalizedEntropy(l);
        return c.layers() == 0 ? 0 : s / c.layers();
    }

    private static void writeCompound(Path dir, List<CandidatePool.Candidate> original, List<Added> added) {
        StringBuilder sb = new StringBuilder();
        for (CandidatePool.Candidate c : original) {
            sb.append(AppendLog.JSON.createObjectNode().put("sample_id", c.id()).put("domain", c.domain()).put("text", c.text())
                    .put("source", "original").put("round", 0)).append('\n');
        }
        for (Added a : added) {
            sb.append(AppendLog.JSON.createObjectNode().put("sample_id", a.sampleId()).put("domain", a.domain()).put("text", a.text())
                    .put("source", a.source()).put("round", a.round())).append('\n');
        }
        SynthFiles.writeString(dir.resolve("compound.jsonl"), sb.toString());
    }

    private static void writeManifest(Path roundDir, RefineParams p, int round, String source, ObjectNode metrics, double seconds) {
        ObjectNode m = AppendLog.JSON.createObjectNode().put("format", "routecal.refine_round").put("format_version", 1)
                .put("round", round).put("source", source).put("finished", Instant.now().toString()).put("seconds", seconds);
        ObjectNode in = m.putObject("inputs");
        in.putObject("corpus").put("path", p.corpus().toString()).put("sha256", sha256(p.corpus()));
        if (p.pool() != null) in.putObject("pool").put("path", p.pool().toString()).put("sha256", sha256(p.pool()));
        m.set("acceptance", AppendLog.JSON.valueToTree(p.acceptance()));
        m.set("stop_rule", AppendLog.JSON.valueToTree(p.stop()));
        m.put("per_round", p.perRound()).put("max_tokens_per_sample", p.maxTokensPerSample());
        if (p.synthesize() != null) {
            m.put("llm_base_url", p.synthesize().llm().normalizedBaseUrl()).put("llm_model", p.synthesize().llm().model())
                    .put("guidelines", p.synthesize().guidelinesDir() == null
                            ? "round_" + round + "/guidelines (re-extracted)" : p.synthesize().guidelinesDir().toString()).put("seed", p.synthesize().seed());
        }
        m.set("metrics", metrics);
        m.putArray("outputs").add("compound.jsonl").add("refine_metrics.jsonl");
        SynthFiles.writeJson(roundDir.resolve("manifest.json"), m);
    }

    /** SHA-256 of a file, or "directory" for a directory source. */
    private static String sha256(Path f) {
        if (Files.isDirectory(f)) return "directory";
        try (InputStream in = Files.newInputStream(f)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (IOException | java.security.NoSuchAlgorithmException e) {
            throw new RoutecalException("cannot hash " + f + ": " + e.getMessage(), e);
        }
    }
}
