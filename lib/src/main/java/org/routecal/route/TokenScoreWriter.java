package org.routecal.route;

import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableWriter;
import org.routecal.pipeline.Progress;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Pass 2 of the route stage: streams routing.parquet back, scores every token in both modes against the final slot
 * sets, and writes {@code token_scores.parquet}:
 * <pre>
 * sample_index, position, token_id: int32
 * balance_x, balance_y: double          balance_class: string (blue | red | both | none)
 * q_sensitivity_x, q_sensitivity_y: double   q_sensitivity_class: string
 * deficit_score: double                 mean over the token's picks of deficit(slot) / target
 * metadata: format=routecal.token_scores, format_version=1, model_fingerprint, ranking, boxes
 * </pre>
 * Keeps only per-domain class counts and a bounded random sample of points for the scatter figure.
 */
final class TokenScoreWriter {
    static final String FORMAT = "routecal.token_scores";
    static final int VERSION = 1;
    static final int SCATTER_POINTS = 4000;

    static final ParquetSchema SCHEMA = ParquetSchema.builder("token_scores")
            .int32("sample_index").int32("position").int32("token_id")
            .float64("balance_x").float64("balance_y").string("balance_class")
            .float64("q_sensitivity_x").float64("q_sensitivity_y").string("q_sensitivity_class")
            .float64("deficit_score").build();

    /** Class counts per mode and domain, plus scatter samples. */
    record Summary(List<String> domains, long[] domainTokens, Map<Mode, long[][]> classCounts /* [domain][blue, red, both] */,
                   double[] domainDeficitSum, Map<Mode, double[][]> scatter /* [n][x, y, class] */) {

        long blue(Mode m) { return sum(m, 0); }

        long red(Mode m) { return sum(m, 1); }

        long both(Mode m) { return sum(m, 2); }

        private long sum(Mode m, int k) {
            long s = 0;
            for (long[] d : classCounts.get(m)) s += d[k];
            return s;
        }
    }

    private TokenScoreWriter() {}

    static Summary write(Path out, RoutingGeometry g, RouteParams params, SlotSets balance, SlotSets qSens, long[] deficits,
                         long target, List<String> domains, int[] domainOfSample, int batchTokens, Progress progress) {
        Path routing = out.resolve(RouteRunDir.ROUTING);
        RoutingParquet.Header h = RoutingParquet.header(routing);
        TokenScorer sb = new TokenScorer(balance, params.balanceBoxes(), deficits, target);
        TokenScorer sq = new TokenScorer(qSens, params.qBoxes(), deficits, target);
        long[] domainTokens = new long[domains.size()];
        double[] deficitSum = new double[domains.size()];
        Map<Mode, long[][]> counts = new EnumMap<>(Mode.class);
        Map<Mode, List<double[]>> scatter = new EnumMap<>(Mode.class);
        for (Mode m : Mode.values()) {
            counts.put(m, new long[domains.size()][3]);
            scatter.put(m, new ArrayList<>());
        }
        Random rnd = new Random(1);
        long[] seen = {0};
        Map<String, String> meta = Map.of("model_fingerprint", h.modelFingerprint(), "ranking", params.ranking().name().toLowerCase(),
                "balance_boxes", params.balanceBoxes().toString(), "q_sensitivity_boxes", params.qBoxes().toString());
        progress.start("route: token scores", h.rows());
        try (ParquetTableWriter w = ParquetTableWriter.create(out.resolve(RouteRunDir.TOKEN_SCORES), SCHEMA, FORMAT, VERSION, meta)) {
            RoutingParquet.read(routing, batchTokens, b -> {
                TokenScorer.TokenScores a = sb.score(b), q = sq.score(b);
                for (int t = 0; t < b.tokens(); t++) {
                    int d = domainOfSample[b.sampleIndex()[t]];
                    domainTokens[d]++;
                    deficitSum[d] += a.deficitScore()[t];
                    String ca = cls(a, t), cq = cls(q, t);
                    tally(counts.get(Mode.BALANCE)[d], a, t);
                    tally(counts.get(Mode.Q_SENSITIVITY)[d], q, t);
                    w.append(b.sampleIndex()[t], b.position()[t], b.tokenId()[t], a.x()[t], a.y()[t], ca, q.x()[t], q.y()[t], cq,
                            a.deficitScore()[t]);
                    // reservoir sample of points for the scatter figure
                    long i = seen[0]++;
                    int slot = i < SCATTER_POINTS ? (int) i : rnd.nextInt((int) Math.min(Integer.MAX_VALUE, i + 1));
                    if (slot < SCATTER_POINTS) {
                        put(scatter.get(Mode.BALANCE), slot, new double[]{a.x()[t], a.y()[t], code(a, t)});
                        put(scatter.get(Mode.Q_SENSITIVITY), slot, new double[]{q.x()[t], q.y()[t], code(q, t)});
                    }
                }
                progress.advance(b.tokens());
            });
        }
        progress.finish();
        Map<Mode, double[][]> pts = new EnumMap<>(Mode.class);
        for (Mode m : Mode.values()) pts.put(m, scatter.get(m).toArray(new double[0][]));
        return new Summary(domains, domainTokens, counts, deficitSum, pts);
    }

    static String cls(TokenScorer.TokenScores s, int t) {
        return s.blue()[t] && s.red()[t] ? "both" : s.blue()[t] ? "blue" : s.red()[t] ? "red" : "none";
    }

    private static double code(TokenScorer.TokenScores s, int t) {
        return s.blue()[t] && s.red()[t] ? 3 : s.blue()[t] ? 1 : s.red()[t] ? 2 : 0;
    }

    private static void tally(long[] c, TokenScorer.TokenScores s, int t) {
        if (s.blue()[t] && s.red()[t]) c[2]++;
        else if (s.blue()[t]) c[0]++;
        else if (s.red()[t]) c[1]++;
    }

    private static void put(List<double[]> list, int slot, double[] v) {
        if (slot < list.size()) list.set(slot, v);
        else list.add(v);
    }
}
