package org.routecal.route;

import org.routecal.report.Chart;
import org.routecal.report.DisplayPart;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stage-1 charts: heatmap of counts, rank curve with threshold lines, per-layer CV/entropy bars, sensitivity vs
 * activation scatter, token scatter with the class boxes, per-domain class bars. Threshold lines and boxes are dashed
 * line traces, so the static image shows them too.
 */
public final class RouteFigures {
    /** Token classes and their colours, the same in every chart and in the legend. */
    static final String[] CLASS_NAMES = {"none", "blue", "red", "both"};
    static final String[] CLASS_COLORS = {"#9e9e9e", "#1565c0", "#c62828", "#6a1b9a"};

    private RouteFigures() {}

    /** All charts of a result, by title. */
    public static Map<String, Chart> all(RouteResult r, boolean logCounts) {
        Map<String, Chart> m = new LinkedHashMap<>();
        m.put("Expert counts (layer × expert)", heatmap(r, logCounts));
        m.put("Rank curve of slot counts", rankCurve(r));
        m.put("Per-layer balance", perLayer(r));
        m.put("Sensitivity vs activation", sensitivityScatter(r));
        for (Mode mode : Mode.values()) m.put("Token scatter (" + mode.key() + ")", tokenScatter(r, mode));
        m.put("Token classes per domain", domainBars(r));
        return m;
    }

    /** What blue, red, both and none mean, with the colours the charts use. */
    static DisplayPart.Legend classLegend() {
        return new DisplayPart.Legend("Token classes (bracket's boxes on the token scatter)", List.of(
                new DisplayPart.Legend.Entry("blue", CLASS_COLORS[1], "inside the blue box: the token's picks lean to "
                        + "scarce (balance) or outlier-sensitive (q_sensitivity) expert slots — the tokens worth adding"),
                new DisplayPart.Legend.Entry("red", CLASS_COLORS[2], "inside the red box: picks lean to frequent "
                        + "(balance) or robust (q_sensitivity) slots — the tokens worth removing"),
                new DisplayPart.Legend.Entry("both", CLASS_COLORS[3], "inside both boxes (only with overlapping thresholds)"),
                new DisplayPart.Legend.Entry("none", CLASS_COLORS[0], "in neither box")));
    }

    static Chart heatmap(RouteResult r, boolean log) {
        RoutingGeometry g = r.geometry();
        double[][] z = new double[g.layers()][g.experts()];
        long[] counts = r.expertStats().longColumn("count").asLongArray();
        for (int s = 0; s < counts.length; s++) z[s / g.experts()][s % g.experts()] = log ? Math.log10(1 + counts[s]) : counts[s];
        List<Integer> x = new ArrayList<>(), y = new ArrayList<>();
        for (int e = 0; e < g.experts(); e++) x.add(e);
        for (int l = 0; l < g.layers(); l++) y.add(g.layerIndex()[l]);
        return Chart.titled("Expert counts per layer" + (log ? " (log10(1 + count))" : "")).axes("expert", "layer")
                .heatmap(x, y, z);
    }

    static Chart rankCurve(RouteResult r) {
        long[] counts = r.expertStats().longColumn("count").asLongArray().clone();
        Arrays.sort(counts);
        int n = counts.length;
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = counts[n - 1 - i];
        }
        Chart c = Chart.titled("Slot counts by rank (all layers)").axes("rank", "count").lines("count (descending)", x, y);
        double max = n == 0 ? 1 : y[0];
        int nFreq = r.balance().y().length, nLess = r.balance().x().length;
        if (r.balance().ranking() == Ranking.GLOBAL) {
            vline(c, nFreq - 0.5, max, "frequent | top " + nFreq);
            vline(c, n - nLess - 0.5, max, "scarce | bottom " + nLess);
        }
        return c.lines("target " + r.target(), new double[]{0, Math.max(0, n - 1)}, new double[]{r.target(), r.target()}, "#555555", true);
    }

    static Chart perLayer(RouteResult r) {
        List<BalanceMetrics> m = r.perLayer();
        List<String> layers = m.stream().map(b -> "L" + b.layer()).toList();
        return Chart.titled("Per-layer CV, normalised entropy and coverage at target").axes("layer", "value").grouped()
                .bar("CV", layers, m.stream().mapToDouble(BalanceMetrics::cv).toArray())
                .bar("entropy (norm.)", layers, m.stream().mapToDouble(BalanceMetrics::entropyNorm).toArray())
                .bar("coverage ≥ target", layers, m.stream().mapToDouble(BalanceMetrics::coverage).toArray());
    }

    static Chart sensitivityScatter(RouteResult r) {
        double[] count = r.expertStats().longColumn("count").asDoubleColumn().asDoubleArray();
        double[] sens = r.expertStats().doubleColumn("sensitivity_ref").asDoubleArray();
        double[] rtn = r.expertStats().doubleColumn("rtn_error").asDoubleArray();
        Chart c = Chart.titled("Expert sensitivity vs activation count").axes("activation count", "sensitivity")
                .markers("max|w|/median|w| (reference)", count, sens, null, 6, 0.8);
        if (Arrays.stream(rtn).anyMatch(Double::isFinite)) {
            double max = Arrays.stream(sens).filter(Double::isFinite).max().orElse(1);
            double rmax = Arrays.stream(rtn).filter(Double::isFinite).max().orElse(1);
            double[] scaled = Arrays.stream(rtn).map(v -> v / rmax * max).toArray();
            c.markers("RTN W4 output error (scaled to the same max)", count, scaled, null, 6, 0.8);
        }
        return c;
    }

    static Chart tokenScatter(RouteResult r, Mode mode) {
        double[][] pts = r.scores().scatter().get(mode);
        String xl = mode == Mode.BALANCE ? "scarce-slot share of picks (x)" : "sensitive-slot share of picks (x)";
        String yl = mode == Mode.BALANCE ? "frequent-slot share of picks (y)" : "robust-slot share of picks (y)";
        Chart c = Chart.titled("Tokens (" + mode.key() + ", sample of " + pts.length + ")").axes(xl, yl);
        for (int cls = 0; cls < 4; cls++) {
            final int k = cls;
            double[] x = Arrays.stream(pts).filter(p -> p[2] == k).mapToDouble(p -> p[0]).toArray();
            double[] y = Arrays.stream(pts).filter(p -> p[2] == k).mapToDouble(p -> p[1]).toArray();
            if (x.length > 0) c.markers(CLASS_NAMES[cls], x, y, CLASS_COLORS[cls], 4, 0.5);
        }
        Boxes b = r.boxes(mode);
        box(c, 0, b.blueX(), b.blueY(), 1, "blue box", CLASS_COLORS[1]);
        box(c, b.redX(), 1, 0, b.redY(), "red box", CLASS_COLORS[2]);
        return c;
    }

    static Chart domainBars(RouteResult r) {
        TokenScoreWriter.Summary s = r.scores();
        Chart c = Chart.titled("Token classes per domain").axes("domain · mode", "tokens").stacked();
        for (Mode mode : Mode.values()) {
            List<String> x = s.domains().stream().map(d -> d + " · " + mode.key()).toList();
            for (int k = 0; k < 3; k++) {
                double[] v = new double[x.size()];
                for (int d = 0; d < v.length; d++) v[d] = s.classCounts().get(mode)[d][k];
                c.bar(CLASS_NAMES[k + 1] + " (" + mode.key() + ")", x, v, CLASS_COLORS[k + 1]);
            }
            double[] none = new double[x.size()];
            for (int d = 0; d < none.length; d++) {
                long[] cc = s.classCounts().get(mode)[d];
                none[d] = s.domainTokens()[d] - cc[0] - cc[1] - cc[2];
            }
            c.bar("none (" + mode.key() + ")", x, none, CLASS_COLORS[0]);
        }
        return c;
    }

    private static void vline(Chart c, double x, double max, String name) {
        c.lines(name, new double[]{x, x}, new double[]{0, max}, null, true);
    }

    private static void box(Chart c, double x0, double x1, double y0, double y1, String name, String color) {
        c.lines(name, new double[]{x0, x1, x1, x0, x0}, new double[]{y0, y0, y1, y1, y0}, color, true);
    }
}
