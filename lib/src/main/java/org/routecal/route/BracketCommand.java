package org.routecal.route;

import org.routecal.session.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code routecal bracket --run DIR --mode balance|q_sensitivity}: tag blue/red token runs in the routed texts. */
@Command(name = "bracket", mixinStandardHelpOptions = true,
        description = "Wrap runs of blue/red tokens of a route run in <blue>…</blue> / <red>…</red> → bracketed_{mode}.jsonl.")
public final class BracketCommand implements StageCommand {
    @Option(names = "--run", required = true, description = "run directory of `routecal route`")
    Path run;

    @Option(names = "--mode", required = true, description = "balance or q_sensitivity")
    String mode;

    @Option(names = "--after", defaultValue = "none",
            description = "tag only text after the first occurrence of this marker (the reference used '<think>\\n'; escapes \\n \\t allowed); none = everywhere (default)")
    String after;

    @Option(names = "--blue-x", description = "blue box: x < this (default: the mode's reference value)") Double blueX;
    @Option(names = "--blue-y", description = "blue box: y > this") Double blueY;
    @Option(names = "--red-x", description = "red box: x > this") Double redX;
    @Option(names = "--red-y", description = "red box: y < this") Double redY;

    @picocli.CommandLine.Mixin
    SlotOptions slots = new SlotOptions();

    @Option(names = "--overlap", defaultValue = "blue-first", description = "a token in both boxes: blue-first (reference) or red-first")
    String overlap;

    @Override
    public Object execute(Progress progress) {
        Mode m = Mode.parse(mode);
        Boxes boxes = m.defaultBoxes().with(blueX, blueY, redX, redY);
        BracketStage.Params p = new BracketStage.Params(m, RouteCommand.marker(after), boxes, slots.freqThr, slots.lessThr, slots.robThr, slots.senThr,
                slots.ranking(), Brackets.Overlap.valueOf(RouteCommand.enumName(overlap, "--overlap", "blue-first", "red-first")));
        return BracketStage.run(run, p, progress);
    }
}
