package org.routecal.route;

import tech.tablesaw.plotly.components.Axis;
import tech.tablesaw.plotly.components.Figure;
import tech.tablesaw.plotly.components.Layout;
import tech.tablesaw.plotly.components.Marker;
import tech.tablesaw.plotly.traces.BarTrace;
import tech.tablesaw.plotly.traces.HeatmapTrace;
import tech.tablesaw.plotly.traces.ScatterTrace;
import tech.tablesaw.plotly.traces.Trace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Stage-1 figures (tablesaw-jsplot): heatmap of counts, rank curve with threshold lines, per-layer CV/entropy bars,
 * sensitivity vs activation scatter, token scatter with the class boxes, per-domain class bars. Tablesaw's layout has
 * no shapes, so threshold lines and boxes are drawn as line traces.
 */
public final class RouteFigures {
    private RouteFigures() {}

    /** All figures of a result, by title. */
    public static Map<String, Figure> all(RouteResult r, boolean logCounts) {
        Map<String, Figure> m = new LinkedHashMap<>();
        m.put("Expert counts (layer × expert)", heatmap(r, logCounts));
        m.put("Rank curve of slot counts", rankCurve(r));
        m.put("Per-layer balance", perLayer(r));
        m.put("Sensitivity vs activation", sensitivityScatter(r));
        for (Mode mode : Mode.values()) m.put("Token scatter (" + mode.key() + ")", tokenScatter(r, mode));
        m.put("Token classes per domain", domainBars(r));
        return m;
    }

    static Figure heatmap(RouteResult r, boolean log) {
        RoutingGeometry g = r.geometry();
        double[][] z = new double[g.layers()][g.experts()];
        long[] counts = r.expertStats().longColumn("count").asLongArray();
        for (int s = 0; s < counts.length; s++) z[s / g.experts()][s % g.experts()] = log ? Math.log10(1 + counts[s]) : counts[s];
        Object[] x = new Object[g.experts()], y = new Object[g.layers()];
        for (int e = 0; e < x.length; e++) x[e] = e;
        for (int l = 0; l < y.length; l++) y[l] = g.layerIndex()[l];
        return new Figure(layout("Expert counts per layer" + (log ? " (log10(1 + count))" : ""), "expert", "layer"),
                HeatmapTrace.builder(x, y, z).build());
    }

    static Figure rankCurve(RouteResult r) {
        long[] counts = r.expertStats().longColumn("count").asLongArray().clone();
        Arrays.sort(counts);
        int n = counts.length;
        double[] x = new double[n], y = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = i;
            y[i] = counts[n - 1 - i];
        }
        List<Trace> traces = new ArrayList<>();
        traces.add(ScatterTrace.builder(x, y).mode(ScatterTrace.Mode.LINE).name("count (descending)").build());
        double max = n == 0 ? 1 : y[0];
        int nFreq = r.balance().y().length, nLess = r.balance().x().length;
        if (r.balance().ranking() == Ranking.GLOBAL) {
            traces.add(vline(nFreq - 0.5, max, "frequent | top " + nFreq));
            traces.add(vline(n - nLess - 0.5, max, "scarce | bottom " + nLess));
        }
        traces.add(ScatterTrace.builder(new double[]{0, n - 1}, new double[]{r.target(), r.target()}).mode(ScatterTrace.Mode.LINE)
                .name("target " + r.target()).build());
        return new Figure(layout("Slot counts by rank (all layers)", "rank", "count"), traces.toArray(new Trace[0]));
    }

    static Figure perLayer(RouteResult r) {
        List<BalanceMetrics> m = r.perLayer();
        Object[] layers = m.stream().map(b -> "L" + b.layer()).toArray();
        double[] cv = m.stream().mapToDouble(BalanceMetrics::cv).toArray();
        double[] ent = m.stream().mapToDouble(BalanceMetrics::entropyNorm).toArray();
        double[] cov = m.stream().mapToDouble(BalanceMetrics::coverage).toArray();
        Layout l = Layout.builder().title("Per-layer CV, normalised entropy and coverage at target").height(420)
                .xAxis(Axis.builder().title("layer").build()).yAxis(Axis.builder().title("value").build())
                .barMode(Layout.BarMode.GROUP).build();
        return new Figure(l, BarTrace.builder(layers, cv).name("CV").build(), BarTrace.builder(layers, ent).name("entropy (norm.)").build(),
                BarTrace.builder(layers, cov).name("coverage ≥ target").build());
    }

    static Figure sensitivityScatter(RouteResult r) {
        double[] count = r.expertStats().longColumn("count").asDoubleColumn().asDoubleArray();
        double[] sens = r.expertStats().doubleColumn("sensitivity_ref").asDoubleArray();
        double[] rtn = r.expertStats().doubleColumn("rtn_error").asDoubleArray();
        List<Trace> t = new ArrayList<>();
        t.add(ScatterTrace.builder(count, sens).mode(ScatterTrace.Mode.MARKERS).name("max|w|/median|w| (reference)").build());
        boolean anyRtn = Arrays.stream(rtn).anyMatch(Double::isFinite);
        if (anyRtn) {
            double max = Arrays.stream(sens).filter(Double::isFinite).max().orElse(1);
            double rmax = Arrays.stream(rtn).filter(Double::isFinite).max().orElse(1);
            double[] scaled = Arrays.stream(rtn).map(v -> v / rmax * max).toArray();
            t.add(ScatterTrace.builder(count, scaled).mode(ScatterTrace.Mode.MARKERS).name("RTN W4 output error (scaled to the same max)").build());
        }
        return new Figure(layout("Expert sensitivity vs activation count", "activation count", "sensitivity"), t.toArray(new Trace[0]));
    }

    static Figure tokenScatter(RouteResult r, Mode mode) {
        double[][] pts = r.scores().scatter().get(mode);
        String[] names = {"none", "blue", "red", "both"};
        String[] colors = {"#9e9e9e", "#1565c0", "#c62828", "#6a1b9a"};
        List<Trace> t = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            final int cls = c;
            double[] x = Arrays.stream(pts).filter(p -> p[2] == cls).mapToDouble(p -> p[0]).toArray();
            double[] y = Arrays.stream(pts).filter(p -> p[2] == cls).mapToDouble(p -> p[1]).toArray();
            if (x.length == 0) continue;
            t.add(ScatterTrace.builder(x, y).mode(ScatterTrace.Mode.MARKERS).name(names[c])
                    .marker(Marker.builder().color(colors[c]).size(4).opacity(0.5).build()).build());
        }
        Boxes b = r.boxes(mode);
        t.add(box(0, b.blueX(), b.blueY(), 1, "blue box"));
        t.add(box(b.redX(), 1, 0, b.redY(), "red box"));
        String xl = mode == Mode.BALANCE ? "scarce-slot share of picks (x)" : "sensitive-slot share of picks (x)";
        String yl = mode == Mode.BALANCE ? "frequent-slot share of picks (y)" : "robust-slot share of picks (y)";
        return new Figure(layout("Tokens (" + mode.key() + ", sample of " + pts.length + ")", xl, yl), t.toArray(new Trace[0]));
    }

    static Figure domainBars(RouteResult r) {
        TokenScoreWriter.Summary s = r.scores();
        List<Trace> t = new ArrayList<>();
        for (Mode mode : Mode.values()) {
            Object[] x = s.domains().stream().map(d -> d + " · " + mode.key()).toArray();
            String[] names = {"blue", "red", "both"};
            for (int k = 0; k < 3; k++) {
                double[] v = new double[x.length];
                for (int d = 0; d < v.length; d++) v[d] = s.classCounts().get(mode)[d][k];
                t.add(BarTrace.builder(x, v).name(names[k] + " (" + mode.key() + ")").build());
            }
            double[] none = new double[x.length];
            for (int d = 0; d < none.length; d++) {
                long[] c = s.classCounts().get(mode)[d];
                none[d] = s.domainTokens()[d] - c[0] - c[1] - c[2];
            }
            t.add(BarTrace.builder(x, none).name("none (" + mode.key() + ")").build());
        }
        Layout l = Layout.builder().title("Token classes per domain").barMode(Layout.BarMode.STACK).height(420)
                .xAxis(Axis.builder().title("domain · mode").build()).yAxis(Axis.builder().title("tokens").build()).build();
        return new Figure(l, t.toArray(new Trace[0]));
    }

    private static Layout layout(String title, String x, String y) {
        return Layout.builder().title(title).height(420).xAxis(Axis.builder().title(x).build()).yAxis(Axis.builder().title(y).build()).build();
    }

    private static Trace vline(double x, double max, String name) {
        return ScatterTrace.builder(new double[]{x, x}, new double[]{0, max}).mode(ScatterTrace.Mode.LINE).name(name).build();
    }

    private static Trace box(double x0, double x1, double y0, double y1, String name) {
        return ScatterTrace.builder(new double[]{x0, x1, x1, x0, x0}, new double[]{y0, y0, y1, y1, y0}).mode(ScatterTrace.Mode.LINE)
                .name(name).build();
    }
}
