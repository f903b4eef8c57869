package org.routecal.synth.cli;

import org.routecal.session.StageCommand;
import org.routecal.corpus.Corpus;
import org.routecal.corpus.CorpusOptions;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.corpus.Sample;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.route.RoutingCounts;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.select.SelectStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;

/** {@code routecal select}: the acceptance rule over a local candidate pool, no LLM. */
@Command(name = "select", mixinStandardHelpOptions = true,
        description = "Route the original corpus and a candidate pool through the target model; greedily add the pool texts that "
                + "lower the per-slot deficit while keeping the routing distribution close to the original.")
public final class SelectCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Mixin CorpusOptionsMixin corpus;
    @Option(names = "--pool", required = true, description = "candidate pool (.jsonl or .parquet rows like the corpus's, or a directory of .txt), read as the corpus is") Path pool;
    @Option(names = "--out", required = true, description = "output directory") Path out;
    @Option(names = "--overwrite", description = "replace an earlier select output in --out") boolean overwrite;
    @Option(names = "--max-accepted", defaultValue = "0", description = "stop after this many (0: no limit)") int maxAccepted;
    @Mixin AcceptanceOptions acceptance;

    @Override public Object execute(org.routecal.session.Session session) throws Exception {
        Progress progress = session.progress();
        CorpusOptions options = corpus.toOptions();
        try (OutputDir dir = OutputDir.of("select", out).overwrite(overwrite).input("--model", target.dir())
                     .input("--corpus", options.corpus()).input("--pool", pool).open();
             ModelTargetModel t = target.target(target.load(session), corpus.codec(target.dir()))) {
            MoeModel m = target.load(session);
            Corpus.Loaded original = Corpus.read(options, t.codec());
            progress.message("corpus: " + original);
            List<Sample> candidates = Corpus.read(options.whole(pool), t.codec()).samples();
            long t0 = System.nanoTime();
            RoutingCounts counts = SelectStage.route(original.samples(), t, t.moeLayerCount(), t.expertCount(), progress);
            double routeSeconds = (System.nanoTime() - t0) / 1e9;
            AcceptanceParams a = acceptance.params(m.config().hiddenSize());
            SelectStage.Result r = SelectStage.run(original.samples(), counts, counts, candidates, t, a, maxAccepted, dir.path(), progress);
            Manifest.Builder b = Manifest.builder("select").model("model", target.dir()).input("corpus", options.corpus()).input("pool", pool)
                    .parameters(options.parameters()).parameter("acceptance", SynthManifests.acceptance(a))
                    .parameter("max_accepted", maxAccepted).seed(options.seed())
                    .results(original.summary()).results(SelectStage.results(r)).timing("route_corpus", routeSeconds);
            r.timings().forEach(b::timing);
            SynthManifests.finish(dir, b, "selected.jsonl", "selected_accepted.jsonl", "select_metrics.json");
            return r;
        }
    }
}
