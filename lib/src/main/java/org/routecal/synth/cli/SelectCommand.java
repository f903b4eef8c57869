package org.routecal.synth.cli;

import org.routecal.RoutecalException;
import org.routecal.session.StageCommand;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.corpus.Sample;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.accept.SelectionState;
import org.routecal.synth.select.Objective;
import org.routecal.synth.select.SelectStage;
import org.routecal.synth.select.SelectionOptions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** {@code routecal select}: add text to the original corpus by an objective, from a local candidate pool, no LLM. */
@Command(name = "select", mixinStandardHelpOptions = true,
        description = "Route the original corpus and a candidate pool through the target model and add pool texts by --objective "
                + "(default stratified: random pool texts in the original domain mix), up to a token budget.")
public final class SelectCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Mixin CorpusOptionsMixin corpus;
    @Option(names = "--pool", description = "candidate pool (.jsonl or .parquet rows like the corpus's, or a directory of .txt), read as the corpus is; "
            + "not needed by --objective self-sample") Path pool;
    @Option(names = "--out", required = true, description = "output directory") Path out;
    @Option(names = "--overwrite", description = "replace an earlier select output in --out") boolean overwrite;
    @Option(names = "--max-accepted", defaultValue = "0", description = "stop after this many (0: no limit)") int maxAccepted;
    @Mixin AcceptanceOptions acceptance;
    @Mixin ObjectiveOptions objective;

    @Override public Object execute(org.routecal.session.Session session) throws Exception {
        Progress progress = session.progress();
        CorpusOptions options = corpus.toOptions();
        SelectionOptions selection = objective.selection(); // flags checked before loading
        if (pool == null && selection.objective() != Objective.SELF_SAMPLE) {
            throw new RoutecalException("select needs --pool (only --objective self-sample generates its own candidates)");
        }
        try (OutputDir dir = OutputDir.of("select", out).overwrite(overwrite).input("--model", target.dir())
                     .input("--corpus", options.corpus()).input("--pool", pool).input("--usage-corpus", selection.usageCorpus()).open();
             ModelTargetModel t = target.target(target.load(session), corpus.codec(target.dir()))) {
            MoeModel m = target.load(session);
            Corpus.Loaded original = Corpus.read(options, t.codec());
            progress.message("corpus: " + original);
            List<Sample> candidates = pool == null ? List.of() : Corpus.read(options.whole(pool), t.codec()).samples();
            long t0 = System.nanoTime();
            SelectStage.Usage measured = SelectStage.measure(original.samples(), t, t.moeLayerCount(), t.expertCount(), progress);
            SelectStage.Usage usage = selection.usageCorpus() == null ? measured
                    : SelectStage.measure(Corpus.read(options.whole(selection.usageCorpus()), t.codec()).samples(), t, t.moeLayerCount(),
                            t.expertCount(), progress);
            double routeSeconds = (System.nanoTime() - t0) / 1e9;
            AcceptanceParams a = acceptance.params(m.config().hiddenSize());
            SelectStage.Options o = new SelectStage.Options(selection, a, maxAccepted, options.seed());
            SelectStage.Result r = SelectStage.run(original.samples(), measured.counts(),
                    SelectionState.original(measured.counts(), measured.domainTokens()), usage, candidates, t, o, dir.path(), progress);
            Manifest.Builder b = Manifest.builder("select").model("model", target.dir()).input("corpus", options.corpus())
                    .parameters(options.parameters()).parameters(selection.parameters()).parameter("acceptance", SynthManifests.acceptance(a))
                    .parameter("max_accepted", maxAccepted).seed(options.seed())
                    .results(original.summary()).results(SelectStage.results(r)).timing("route_corpus", routeSeconds);
            if (pool != null) b.input("pool", pool);
            if (selection.usageCorpus() != null) b.input("usage_corpus", selection.usageCorpus());
            r.timings().forEach(b::timing);
            SynthManifests.finish(dir, b, "selected.jsonl", "selected_accepted.jsonl", "select_metrics.json");
            return r;
        }
    }
}
