package org.routecal.route;

import org.routecal.RoutecalException;
import org.routecal.pipeline.OutputDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The route stage's files in a run directory, and the rule that keeps runs from different models apart: a directory
 * that already holds a finished run (manifest.json) is refused when its model fingerprint differs (even with
 * --overwrite: the other model's run is never mixed with or silently replaced by this one). Everything else — same
 * model, an interrupted run of ours, inputs, the lock — is {@link OutputDir}'s rules.
 */
public final class RouteRunDir {
    public static final String ROUTING = "routing.parquet", SAMPLES = "samples.jsonl", TOKEN_ROUTING = "token_routing.jsonl",
            EXPERT_STATS = "expert_stats.parquet", METRICS = "metrics.json", TOKEN_SCORES = "token_scores.parquet",
            REPORT = "report.html", MANIFEST = "manifest.json";
    /** expert_stats.parquet's format and version (for readers outside this package, e.g. quantize's --usage-run). */
    public static final String EXPERT_STATS_FORMAT = ExpertStats.FORMAT;
    public static final int EXPERT_STATS_VERSION = ExpertStats.VERSION;

    private RouteRunDir() {}

    /**
     * Checks and opens {@code out} for a new route run of the model with {@code fingerprint}: refuses another model's
     * finished run, then opens it through {@link OutputDir} (inputs never overlapped, one writer, only our own route
     * output replaced and only with --overwrite). An interrupted run (no manifest; its routing.parquet may be empty)
     * is always replaceable.
     */
    static OutputDir prepare(Path out, String fingerprint, boolean overwrite, Path modelDir, Map<String, Path> inputs) {
        Path routing = out.resolve(ROUTING);
        if (Files.isRegularFile(out.resolve(MANIFEST)) && Files.exists(routing)) {
            String other;
            try {
                other = RoutingParquet.header(routing).modelFingerprint();
            } catch (RoutecalException e) {
                other = "unreadable";
            }
            if (!fingerprint.equals(other)) {
                throw new RoutecalException(out + " holds a routing run of a different model (fingerprint " + abbrev(other)
                        + ", this model " + abbrev(fingerprint) + "); runs are never mixed: choose another --out or delete it");
            }
        }
        OutputDir.Builder b = OutputDir.of("route", out).overwrite(overwrite).input("--model", modelDir);
        inputs.forEach((name, path) -> b.input("--" + name, path));
        return b.open();
    }

    /** Requires a finished route run in {@code run} (for bracket): its manifest and files. */
    static void requireRun(Path run) {
        OutputDir.requireComplete(run, "route", "--run");
        for (String f : List.of(ROUTING, SAMPLES, EXPERT_STATS)) {
            if (!Files.isRegularFile(run.resolve(f))) {
                throw new RoutecalException(run + ": no " + f + " (not a finished `routecal route` run directory)");
            }
        }
    }

    static String abbrev(String fp) { return fp == null ? "none" : fp.length() > 12 ? fp.substring(0, 12) : fp; }
}
