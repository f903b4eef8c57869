package org.routecal.synth.cli;

import org.routecal.cli.StageCommand;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.synth.ModelTargetModel;
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
        description = "Repeat route → check stop rule → (select from --pool by --objective | synthesize with an LLM) → merge, adding to the "
                + "original corpus. Stops when every slot reaches --target, every layer's normalised entropy reaches --min-entropy, the objective "
                + "has not fallen for --patience rounds, a round adds nothing (no_gain), or after --max-rounds.")
public final class RefineCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Option(names = "--corpus", required = true, description = "original corpus (.jsonl with text or messages, or a directory of .txt)") Path corpus;
    @Option(names = "--pool", description = "local candidate pool (no LLM); otherwise --llm-base-url and --guidelines") Path pool;
    @Option(names = "--guidelines", description = "fixed guidelines from extract (LLM mode); without it every round re-brackets and re-extracts") Path guidelines;
    @Option(names = "--out", required = true) Path out;
    @Option(names = "--max-rounds", defaultValue = "5") int maxRounds;
    @Option(names = "--min-entropy", defaultValue = "0", description = "stop when every layer's normalised entropy ≥ this (0: off)") double minEntropy;
    @Option(names = "--patience", defaultValue = "2", description = "stop after this many rounds without a decrease of the objective (the deficit in LLM mode)") int patience;
    @Option(names = "--per-round", defaultValue = "64", description = "texts accepted per round (select) or per (mode, domain) and round (synthesize)") int perRound;
    @Option(names = "--max-candidates", defaultValue = "256", description = "LLM generations per (mode, domain) and round at most") int maxCandidates;
    @Option(names = "--max-tokens-per-sample", defaultValue = "4096") int maxTokensPerSample;
    @Option(names = "--prompt-dir") Path promptDir;
    @Mixin LlmOptionsMixin llm;
    @Mixin AcceptanceOptions acceptance;
    @Mixin ObjectiveOptions objective;

    @Override public Object execute(org.routecal.pipeline.Session session) throws Exception {
        Progress progress = session.progress();
        {
            MoeModel m = target.load(session);
            ModelTargetModel t = target.target(m);
            AcceptanceParams a = acceptance.params(m.config().hiddenSize());
            LlmOptions o = llm.options();
            SynthesizeParams s = null;
            boolean selfSample = objective.objective() == org.routecal.synth.select.Objective.SELF_SAMPLE;
            if (pool == null && !selfSample) {
                if (o == null) throw new org.routecal.RoutecalException("refine needs --pool, --objective self-sample, or --llm-base-url and --llm-model");
                s = new SynthesizeParams(out, guidelines, 0, perRound, maxCandidates, maxTokensPerSample, 3, 900, objective.seed, promptDir, o,
                        new LlmParams(0.85, 0.95, 2048, null, Map.of()), a);
            }
            RefineParams p = new RefineParams(out, corpus, pool, s, a, new StopRule(a.target(), minEntropy, patience, maxRounds),
                    perRound, maxTokensPerSample, objective.options(a, perRound, maxTokensPerSample), objective.usageCorpus);
            return RefineStage.run(p, t, t.moeLayerCount(), t.expertCount(), progress);
        }
    }
}
