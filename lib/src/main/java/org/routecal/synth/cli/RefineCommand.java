package org.routecal.synth.cli;

import org.routecal.cli.StageCommand;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;
import org.routecal.synth.refine.RefineParams;
import org.routecal.synth.refine.RefineStage;
import org.routecal.synth.refine.StopRule;
import org.routecal.synth.synthesize.SynthesizeParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** {@code routecal refine}: the closed loop until a stated rule holds. */
@Command(name = "refine", mixinStandardHelpOptions = true,
        description = "Repeat route → check stop rule → (select from --pool | synthesize with an LLM) → merge, adding to the original corpus. "
                + "Stops when every slot reaches --target, every layer's normalised entropy reaches --min-entropy, the deficit has not "
                + "fallen for --patience rounds, or after --max-rounds. The corpus is read with route's options, so round 0 counts what route counts.")
public final class RefineCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Mixin CorpusOptionsMixin corpus;
    @Option(names = "--pool", description = "local candidate pool (no LLM), read as the corpus is; otherwise --llm-base-url and --guidelines") Path pool;
    @Option(names = "--guidelines", description = "fixed guidelines from extract (LLM mode); without it every round re-brackets and re-extracts") Path guidelines;
    @Option(names = "--out", required = true) Path out;
    @Option(names = "--overwrite", description = "replace an earlier refine output in --out") boolean overwrite;
    @Option(names = "--max-rounds", defaultValue = "5") int maxRounds;
    @Option(names = "--min-entropy", defaultValue = "0", description = "stop when every layer's normalised entropy ≥ this (0: off)") double minEntropy;
    @Option(names = "--patience", defaultValue = "2", description = "stop after this many rounds without a deficit decrease") int patience;
    @Option(names = "--per-round", defaultValue = "64", description = "texts accepted per round (select) or per (mode, domain) and round (synthesize)") int perRound;
    @Option(names = "--max-candidates", defaultValue = "256", description = "LLM generations per (mode, domain) and round at most") int maxCandidates;
    @Option(names = "--prompt-dir") Path promptDir;
    @Mixin LlmOptionsMixin llm;
    @Mixin AcceptanceOptions acceptance;

    @Override public Object execute(org.routecal.pipeline.Session session) throws Exception {
        Progress progress = session.progress();
        CorpusOptions options = corpus.toOptions();
        try (OutputDir dir = OutputDir.of("refine", out).overwrite(overwrite).input("--model", target.dir())
                     .input("--corpus", options.corpus()).input("--pool", pool).input("--guidelines", guidelines).open();
             ModelTargetModel t = target.target(target.load(session), corpus.codec(target.dir()))) {
            MoeModel m = target.load(session);
            AcceptanceParams a = acceptance.params(m.config().hiddenSize());
            LlmOptions o = llm.options();
            SynthesizeParams s = null;
            if (pool == null) {
                if (o == null) throw new org.routecal.RoutecalException("refine needs --pool, or --llm-base-url and --llm-model");
                s = new SynthesizeParams(dir.path(), guidelines, 0, perRound, maxCandidates, options, 3, 900, options.seed(), promptDir, o,
                        new LlmParams(0.85, 0.95, 2048, null, Map.of()), a);
            }
            RefineParams p = new RefineParams(dir.path(), options, pool, s, a, new StopRule(a.target(), minEntropy, patience, maxRounds), perRound);
            long t0 = System.nanoTime();
            RefineStage.Result r = RefineStage.run(p, t, t.moeLayerCount(), t.expertCount(), progress);
            Manifest.Builder b = Manifest.builder("refine").seed(options.seed()).model("model", target.dir()).input("corpus", options.corpus())
                    .parameters(options.parameters()).parameter("acceptance", SynthManifests.acceptance(a))
                    .parameter("stop_rule", p.stop()).parameter("per_round", perRound).parameter("llm", SynthManifests.llm(o, null))
                    .results(r.corpus().summary()).result("rounds", r.rounds()).result("stop_reason", r.stopReason())
                    .result("deficit_start", r.deficitStart()).result("deficit_end", r.deficitEnd()).result("added", r.added())
                    .timing("refine", (System.nanoTime() - t0) / 1e9);
            if (pool != null) b.input("pool", pool);
            if (guidelines != null) b.input("guidelines", guidelines);
            SynthManifests.finish(dir, b, "compound.jsonl", "refine_metrics.jsonl", "refine_chart.svg");
            return r;
        }
    }
}
