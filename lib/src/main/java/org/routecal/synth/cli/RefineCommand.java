package org.routecal.synth.cli;

import org.routecal.session.StageCommand;
import org.routecal.corpus.CorpusOptionsMixin;
import org.routecal.synth.refine.RefineStage;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code routecal refine}: the closed loop until a stated rule holds. */
@Command(name = "refine", mixinStandardHelpOptions = true,
        description = "Repeat route → check stop rule → (select from --pool by --objective | synthesize with an LLM) → merge, adding to the "
                + "original corpus. Stops when every slot reaches --target, every layer's normalised entropy reaches --min-entropy, the objective "
                + "has not fallen for --patience rounds, a round adds nothing (no_gain), or after --max-rounds. The corpus is read with route's "
                + "options, so round 0 counts what route counts.")
public final class RefineCommand implements StageCommand {
    @Mixin TargetModelOptions target;
    @Mixin CorpusOptionsMixin corpus;
    @Option(names = "--pool", description = "local candidate pool (no LLM), read as the corpus is; otherwise --objective self-sample, or "
            + "--llm-base-url and --guidelines") Path pool;
    @Option(names = "--guidelines", description = "fixed guidelines from extract (LLM mode); without it every round re-brackets and re-extracts") Path guidelines;
    @Option(names = "--out", required = true) Path out;
    @Option(names = "--overwrite", description = "replace an earlier refine output in --out") boolean overwrite;
    @Option(names = "--max-rounds", defaultValue = "5") int maxRounds;
    @Option(names = "--min-entropy", defaultValue = "0", description = "stop when every layer's normalised entropy ≥ this (0: off)") double minEntropy;
    @Option(names = "--patience", defaultValue = "2", description = "stop after this many rounds without a decrease of the objective (the deficit in LLM mode)") int patience;
    @Option(names = "--per-round", defaultValue = "64", description = "texts accepted per round (select) or per (mode, domain) and round (synthesize)") int perRound;
    @Option(names = "--max-candidates", defaultValue = "256", description = "LLM generations per (mode, domain) and round at most") int maxCandidates;
    @Option(names = "--prompt-dir") Path promptDir;
    @Mixin LlmOptionsMixin llm;
    @Mixin AcceptanceOptions acceptance;
    @Mixin ObjectiveOptions objective;

    @Override public Object execute(org.routecal.session.Session session) throws Exception {
        RefineStage.Request r = new RefineStage.Request(target.dir(), corpus.toOptions(), corpus.tokenizer(), pool, guidelines, out, overwrite,
                acceptance::params, new RefineStage.Stop(maxRounds, minEntropy, patience), perRound, maxCandidates, promptDir, llm.options(),
                target.routeWindow(), target.device(), objective.selection());
        return RefineStage.run(r, session);
    }
}
