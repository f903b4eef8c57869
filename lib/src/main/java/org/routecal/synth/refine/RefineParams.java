package org.routecal.synth.refine;

import org.routecal.corpus.CorpusOptions;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.synthesize.SynthesizeParams;

import java.nio.file.Path;

/**
 * Parameters of {@link RefineStage}: exactly one source of new text, {@code pool} (select, no LLM) or
 * {@code synthesize} (its {@code round} and {@code outDir} are set per round by the loop).
 *
 * @param corpus   the original corpus and how it is read (the same options as route's, so round 0 counts what route
 *                 counts); always kept whole. The pool is read with the same rendering and token limit.
 * @param perRound texts accepted per round at most (select), or per (mode, domain) and round (synthesize)
 */
public record RefineParams(Path outDir, CorpusOptions corpus, Path pool, SynthesizeParams synthesize, AcceptanceParams acceptance,
                           StopRule stop, int perRound) {}
