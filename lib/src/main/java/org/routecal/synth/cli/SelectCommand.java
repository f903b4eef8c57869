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
        description = "Route the original corpus and a candidate pool through the target model and add pool texts by --objective "
                + "(default stratified: random pool texts in the original domain mix), up to a token budget.")
public final class SelectCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Option(names = "--corpus", required = true, description = "original corpus (.jsonl with text or messages, or a directory of .txt)") Path corpus;
    @Option(names = "--pool", description = "candidate pool (.jsonl or a directory of .txt); not needed by --objective self-sample") Path pool;
    @Option(names = "--out", required = true, description = "output directory") Path out;
    @Option(names = "--max-accepted", defaultValue = "0", description = "stop after this many (0: no limit)") int maxAccepted;
    @Option(names = "--max-tokens-per-sample", defaultValue = "4096") int maxTokensPerSample;
    @Mixin AcceptanceOptions acceptance;
    @Mixin ObjectiveOptions objective;

    @Override public Object execute(org.routecal.pipeline.Session session) throws Exception {
        Progress progress = session.progress();
        SelectStage.Options o = objective.options(acceptance.params(1), maxAccepted, maxTokensPerSample); // flags checked before loading
        MoeModel m = target.load(session);
        ModelTargetModel t = target.target(m);
        o = objective.options(acceptance.params(m.config().hiddenSize()), maxAccepted, maxTokensPerSample);
        List<CandidatePool.Candidate> original = CandidatePool.read(corpus, t);
        SelectStage.Usage measured = SelectStage.measure(original, t, t.moeLayerCount(), t.expertCount(), progress);
        SelectStage.Usage usage = objective.usageCorpus == null ? measured
                : SelectStage.measure(CandidatePool.read(objective.usageCorpus, t), t, t.moeLayerCount(), t.expertCount(), progress);
        List<CandidatePool.Candidate> candidates = pool == null ? List.of() : CandidatePool.read(pool, t);
        if (pool == null && o.objective() != org.routecal.synth.select.Objective.SELF_SAMPLE) {
            throw new org.routecal.RoutecalException("select needs --pool (only --objective self-sample generates its own candidates)");
        }
        return SelectStage.run(original, measured.counts(), org.routecal.synth.accept.SelectionState.original(measured.counts(), measured.domainTokens()),
                usage, candidates, t, o, out, progress);
    }
}
