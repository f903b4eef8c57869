package org.routecal.synth.cli;

import org.routecal.RoutecalException;
import org.routecal.session.StageCommand;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.route.RoutingCounts;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.synthesize.SyntheticExport;
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
                + "and keep those the acceptance rule accepts; resumable (OUT/synthetic.jsonl is the log). --seed also fixes "
                + "each candidate's persona and examples.")
public final class SynthesizeCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Mixin CorpusOptionsMixin corpus;
    @Option(names = "--guidelines", required = true, description = "guidelines directory written by extract") Path guidelines;
    @Option(names = "--out", required = true, description = "run directory (an earlier synthesize run there is resumed)") Path out;
    @Option(names = "--overwrite", description = "start over: replace an earlier synthesize run in --out instead of resuming it") boolean overwrite;
    @Option(names = "--round", defaultValue = "1") int round;
    @Option(names = "--per-combo", defaultValue = "128", description = "accepted rows wanted per (mode, domain) (default ${DEFAULT-VALUE})") int perCombo;
    @Option(names = "--max-candidates", defaultValue = "512", description = "generation attempts per (mode, domain) at most (default ${DEFAULT-VALUE})") int maxCandidates;
    @Option(names = "--few-shot", defaultValue = "3") int fewShot;
    @Option(names = "--few-shot-chars", defaultValue = "900") int fewShotChars;
    @Option(names = "--prompt-dir", description = "template overrides (synthesize.md, personas.json, domains.properties)") Path promptDir;
    @Option(names = "--temperature", defaultValue = "0.85") double temperature;
    @Option(names = "--top-p", defaultValue = "0.95") double topP;
    @Option(names = "--max-tokens", defaultValue = "2048", description = "generation token limit per candidate") int maxTokens;
    @Mixin LlmOptionsMixin llm;
    @Mixin AcceptanceOptions acceptance;

    @Override public Object execute(org.routecal.session.Session session) throws Exception {
        Progress progress = session.progress();
        LlmOptions o = llm.options();
        if (o == null) throw new RoutecalException("synthesize needs --llm-base-url and --llm-model (without an endpoint use select --pool)");
        CorpusOptions options = corpus.toOptions();
        try (OutputDir dir = OutputDir.of("synthesize", out).resume(true).overwrite(overwrite).input("--model", target.dir())
                     .input("--corpus", options.corpus()).input("--guidelines", guidelines).open();
             ModelTargetModel t = target.target(target.load(session), corpus.codec(target.dir()))) {
            MoeModel m = target.load(session);
            if (dir.resumed()) progress.message("resuming the synthesize run in " + dir.target());
            Corpus.Loaded original = Corpus.read(options, t.codec());
            progress.message("corpus: " + original);
            RoutingCounts counts = SelectStage.route(original.samples(), t, t.moeLayerCount(), t.expertCount(), progress);
            SynthesizeParams p = new SynthesizeParams(dir.path(), guidelines, round, perCombo, maxCandidates, options, fewShot,
                    fewShotChars, options.seed(), promptDir, o, new LlmParams(temperature, topP, maxTokens, null, Map.of()),
                    acceptance.params(m.config().hiddenSize()));
            long t0 = System.nanoTime();
            SynthesizeStage.Result r = SynthesizeStage.run(p, t, counts, counts, progress);
            Manifest.Builder b = Manifest.builder("synthesize").seed(p.seed()).model("model", target.dir())
                    .input("corpus", options.corpus()).input("guidelines", guidelines).parameters(options.parameters())
                    .parameter("round", round).parameter("target_per_combo", perCombo).parameter("max_candidates_per_combo", maxCandidates)
                    .parameter("few_shot", fewShot).parameter("few_shot_chars", fewShotChars).parameter("prompt_dir", String.valueOf(promptDir))
                    .parameter("llm", SynthManifests.llm(o, p.llmParams())).parameter("acceptance", SynthManifests.acceptance(p.acceptance()))
                    .results(original.summary()).result("candidates", r.rows()).result("accepted", r.accepted())
                    .result("cut_to_token_limit", r.cut()).result("reasons", r.reasons()).result("deficit_before", r.deficitBefore())
                    .result("deficit_after", r.deficitAfter()).timing("synthesize", (System.nanoTime() - t0) / 1e9);
            SynthManifests.finish(dir, b, "synthetic.jsonl", SyntheticExport.PARQUET, SyntheticExport.ACCEPTED, "llm_calls.jsonl");
            return r;
        }
    }
}
