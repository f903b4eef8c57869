package org.routecal.synth.synthesize;

import org.routecal.pipeline.Progress;
import org.routecal.synth.HashingTargetModel;

import java.nio.file.Path;

/** Runs {@link SynthesizeStage} in a child JVM (args: base URL, run dir) so a test can kill it mid-run. */
public final class SynthesizeChild {
    public static void main(String[] args) {
        HashingTargetModel m = new HashingTargetModel(2, 8);
        SynthesizeParams p = SynthesizeStageTest.params(args[0], Path.of(args[1]), 0);
        SynthesizeStage.run(p, m, SynthesizeStageTest.original(m), SynthesizeStageTest.original(m), Progress.NONE);
    }
}
