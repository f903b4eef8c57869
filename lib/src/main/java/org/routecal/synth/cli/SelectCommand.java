package org.routecal.synth.cli;

import org.routecal.cli.StageCommand;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.synth.ModelTargetModel;
import org.routecal.synth.accept.RoutingCounts;
import org.routecal.synth.select.CandidatePool;
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
    @Option(names = "--corpus", required = true, description = "original corpus (.jsonl with text or messages, or a directory of .txt)") Path corpus;
    @Option(names = "--pool", required = true, description = "candidate pool (.jsonl or a directory of .txt)") Path pool;
    @Option(names = "--out", required = true, description = "output directory") Path out;
    @Option(names = "--max-accepted", defaultValue = "0", description = "stop after this many (0: no limit)") int maxAccepted;
    @Option(names = "--max-tokens-per-sample", defaultValue = "4096") int maxTokensPerSample;
    @Mixin AcceptanceOptions acceptance;

    @Override public Object execute(org.routecal.pipeline.Session session) throws Exception {
        Progress progress = session.progress();
        {
            MoeModel m = target.load(session);
            ModelTargetModel t = target.target(m);
            List<CandidatePool.Candidate> original = CandidatePool.read(corpus, t);
            RoutingCounts counts = SelectStage.route(original, t, t.moeLayerCount(), t.expertCount(), progress);
            return SelectStage.run(original, counts, counts, CandidatePool.read(pool, t), t,
                    acceptance.params(m.config().hiddenSize()), maxAccepted, maxTokensPerSample, out, progress);
        }
    }
}
