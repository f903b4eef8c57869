package org.routecal.route;

import picocli.CommandLine.Option;

/**
 * The slot-set options shared by {@code route} and {@code bracket} (a picocli mixin, so both commands and their magics
 * parse them identically): the reference's quantile thresholds and the ranking basis.
 */
public final class SlotOptions {
    @Option(names = "--freq-thr", defaultValue = "0.25", description = "share of slots called frequent (default ${DEFAULT-VALUE})") double freqThr;
    @Option(names = "--less-thr", defaultValue = "0.25", description = "share of slots called scarce (default ${DEFAULT-VALUE})") double lessThr;
    @Option(names = "--rob-thr", defaultValue = "0.25", description = "share of slots called robust (default ${DEFAULT-VALUE})") double robThr;
    @Option(names = "--sen-thr", defaultValue = "0.25", description = "share of slots called sensitive (default ${DEFAULT-VALUE})") double senThr;

    @Option(names = "--ranking", defaultValue = "global", description = "slot ranking: global (reference) or per-layer (default ${DEFAULT-VALUE})")
    String ranking;

    Ranking ranking() { return RouteCommand.ranking(ranking); }
}
