package org.routecal.synth.refine;

import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.synthesize.SynthesizeParams;

import java.nio.file.Path;

/**
 * Parameters of {@link RefineStage}: exactly one source of new text, {@code pool} (select, no LLM) or
 * {@code synthesize} (its {@code round} and {@code outDir} are set per round by the loop).
 *
 * @param corpus              the original corpus (.jsonl with text/messages, or a directory of .txt); always kept whole
 * @param perRound            texts accepted per round at most (select), or per (mode, domain) and round (synthesize)
 */
public record RefineParams(Path outDir, Path corpus, Path pool, SynthesizeParams synthesize, AcceptanceParams acceptance,
                           StopRule stop, int perRound, int maxTokensPerSample) {}
