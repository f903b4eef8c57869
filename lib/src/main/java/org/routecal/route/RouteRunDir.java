package org.routecal.route;

import org.routecal.RoutecalException;
import org.routecal.pipeline.RunDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The route stage's files in a run directory, and the rule that keeps runs from different models apart: a directory
 * that already holds a routing.parquet is refused when its model fingerprint differs (even with --overwrite: the
 * other model's run is never mixed with or silently replaced by this one), and without --overwrite when it is the
 * same model.
 */
public final class RouteRunDir {
    public static final String ROUTING = "routing.parquet", SAMPLES = "samples.jsonl", TOKEN_ROUTING = "token_routing.jsonl",
            EXPERT_STATS = "expert_stats.parquet", METRICS = "metrics.json", TOKEN_SCORES = "token_scores.parquet",
            REPORT = "report.html", MANIFEST = "manifest.json";

    private RouteRunDir() {}

    /**
     * Checks and prepares {@code out} for a new route run of the model with {@code fingerprint}: refuses another
     * model's run, then lets {@link RunDir#create} handle an existing directory (refused unless --overwrite, and only
     * a routecal run directory is ever cleared).
     */
    static RunDir prepare(Path out, String fingerprint, boolean overwrite) {
        Path routing = out.resolve(ROUTING);
        if (Files.exists(routing)) {
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
        return RunDir.create(out, overwrite);
    }

    /** Requires a finished route run in {@code run} (for bracket). */
    static void requireRun(Path run) {
        for (String f : List.of(ROUTING, SAMPLES, EXPERT_STATS)) {
            if (!Files.isRegularFile(run.resolve(f))) {
                throw new RoutecalException(run + ": no " + f + " (not a finished `routecal route` run directory)");
            }
        }
    }

    static String abbrev(String fp) { return fp == null ? "none" : fp.length() > 12 ? fp.substring(0, 12) : fp; }
}
