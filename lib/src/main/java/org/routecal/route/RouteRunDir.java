package org.routecal.route;

import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

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

    /** Files a route run writes (bracket outputs are named by mode). */
    static final List<String> OWNED = List.of(ROUTING, SAMPLES, TOKEN_ROUTING, EXPERT_STATS, METRICS, TOKEN_SCORES, REPORT,
            MANIFEST, "bracketed_balance.jsonl", "bracketed_q_sensitivity.jsonl");

    private RouteRunDir() {}

    /** Checks and prepares {@code out} for a new route run of the model with {@code fingerprint}. */
    static void prepare(Path out, String fingerprint, boolean overwrite) {
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
            if (!overwrite) throw new RoutecalException(out + " already holds a routing run of this model; pass --overwrite to replace it");
        }
        try {
            Files.createDirectories(out);
            for (String f : OWNED) Files.deleteIfExists(out.resolve(f));
            if (Files.isDirectory(out.resolve("figures"))) {
                try (Stream<Path> s = Files.list(out.resolve("figures"))) {
                    for (Path p : s.toList()) Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new RoutecalException(out + ": cannot prepare the run directory: " + e.getMessage(), e);
        }
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
