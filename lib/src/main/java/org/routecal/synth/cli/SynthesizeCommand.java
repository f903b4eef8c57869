package org.routecal.synth.cli;

import org.routecal.RoutecalException;
import org.routecal.cli.StageCommand;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.RoutingCounts;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;
import org.routecal.synth.select.CandidatePool;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.synthesize.SynthesizeParams;
import org.routecal.synth.synthesize.SynthesizeStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;

/** {@code routecal synthesize}: LLM generation per guideline, accepted only if the target's router says it helps. */
@Command(name = "synthesize", mixinStandardHelpOptions = true,
        description = "Stage 3: generate candidates per (mode, domain) guideline, render them in the target chat template, route them, "
                + "and keep those the acceptance rule accepts; resumable (OUT/synthetic.jsonl is the log).")
public final class SynthesizeCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Option(names = "--corpus", required = true, description = "original corpus (.jsonl with text or messages, or a directory of .txt)") Path corpus;
    @Option(names = "--guidelines", required = true, description = "guidelines directory written by extract") Path guidelines;
    @Option(names = "--out", required = true, description = "run directory (resumed if it has synthetic.jsonl)") Path out;
    @Option(names = "--round", defaultValue = "1") int round;
    @Option(names = "--per-combo", defaultValue = "128", description = "accepted rows wanted per (mode, domain) (default ${DEFAULT-VALUE})") int perCombo;
    @Option(names = "--max-candidates", defaultValue = "512", description = "generation attempts per (mode, domain) at most (default ${DEFAULT-VALUE})") int maxCandidates;
    @Option(names = "--max-tokens-per-sample", defaultValue = "4096") int maxTokensPerSample;
    @Option(names = "--few-shot", defaultValue = "3") int fewShot;
    @Option(names = "--few-shot-chars", defaultValue = "900") int fewShotChars;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--prompt-dir", description = "template overrides (synthesize.md, personas.json, domains.properties)") Path promptDir;
    @Option(names = "--temperature", defaultValue = "0.85") double temperature;
    @Option(names = "--top-p", defaultValue = "0.95") double topP;
    @Option(names = "--max-tokens", defaultValue = "2048", description = "generation token limit per candidate") int maxTokens;
    @Mixin LlmOptionsMixin llm;
    @Mixin AcceptanceOptions acceptance;

    @Override public Object execute(org.routecal.pipeline.Session session) throws Exception {
        Progress progress = session.progress();
        LlmOptions o = llm.options();
        if (o == null) throw new RoutecalException("synthesize needs --llm-base-url and --llm-model (without an endpoint use select --pool)");
        {
            MoeModel m = target.load(session);
            ModelTargetModel t = target.target(m);
            RoutingCounts counts = SelectStage.route(CandidatePool.read(corpus, t), t, t.moeLayerCount(), t.expertCount(), progress);
            SynthesizeParams p = new SynthesizeParams(out, guidelines, round, perCombo, maxCandidates, maxTokensPerSample, fewShot,
                    fewShotChars, seed, promptDir, o, new LlmParams(temperature, topP, maxTokens, null, Map.of()),
                    acceptance.params(m.config().hiddenSize()));
            return SynthesizeStage.run(p, t, counts, counts, progress);
        }
    }
}
