package org.routecal.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The static PNG of a {@link Chart}: what untrusted notebooks, GitHub, nbviewer without JS and PDF exports show.
 * Drawn with JFreeChart, because it is pure Java (no browser, no native renderer at run time, works headless and
 * offline), long maintained, and draws the three kinds our charts use: bars (grouped or stacked), scatter/line and
 * heatmaps. Colours follow Plotly's defaults so the picture matches the interactive chart. A chart with a trace kind
 * outside these gets no image (the interactive chart and the JSON still carry it).
 */
public final class ChartImage {
    /** plotly.js's default colourway (d3 category10), so trace i has the same colour in both renderings. */
    private static final String[] COLORWAY = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
            "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
    private static final Color GRID = new Color(0xDDDDDD);
    private static volatile boolean warned;

    private ChartImage() {}

    /** The chart as PNG bytes, or empty when a trace kind has no static rendering or AWT cannot draw here. */
    public static Optional<byte[]> png(Chart chart) {
        JsonNode fig = chart.json();
        try {
            if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
            JFreeChart jf = build(fig);
            if (jf == null) return Optional.empty();
            style(jf, fig);
            JsonNode layout = fig.path("layout");
            int w = layout.path("width").asInt(760), h = layout.path("height").asInt(420);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ChartUtils.writeChartAsPNG(out, jf, w, h);
            return Optional.of(out.toByteArray());
        } catch (Exception | LinkageError | java.awt.AWTError e) {
            // No fonts or no AWT on this machine: the chart still renders interactively; say so once.
            if (!warned) {
                warned = true;
                System.err.println("routecal: static chart images are off (" + e + "); charts stay interactive only");
            }
            return Optional.empty();
        }
    }

    private static JFreeChart build(JsonNode fig) {
        JsonNode data = fig.path("data");
        if (data.isEmpty()) return null;
        String kind = null;
        for (JsonNode t : data) {
            String k = t.path("type").asText("scatter");
            if (kind == null) kind = k;
            else if (!kind.equals(k)) return null;
        }
        JsonNode layout = fig.path("layout");
        String title = layout.path("title").path("text").asText("");
        String x = layout.path("xaxis").path("title").path("text").asText(""), y = layout.path("yaxis").path("title").path("text").asText("");
        return switch (kind) {
            case "bar" -> bars(data, title, x, y, "stack".equals(layout.path("barmode").asText()));
            case "scatter" -> scatter(data, title, x, y);
            case "heatmap" -> data.size() == 1 ? heatmap(data.get(0), title, x, y) : null;
            default -> null;
        };
    }

    private static JFreeChart bars(JsonNode data, String title, String xTitle, String yTitle, boolean stacked) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        List<Paint> paints = new ArrayList<>();
        int i = 0;
        for (JsonNode t : data) {
            String name = t.path("name").asText("trace " + i);
            JsonNode xs = t.path("x"), ys = t.path("y");
            for (int k = 0; k < xs.size(); k++) {
                JsonNode v = ys.path(k);
                ds.addValue(v.isNumber() ? v.asDouble() : null, name + "\u200b".repeat(i), xs.get(k).asText());
            }
            paints.add(color(t.path("marker").path("color"), i++));
        }
        JFreeChart c = stacked
                ? ChartFactory.createStackedBarChart(title, xTitle, yTitle, ds, PlotOrientation.VERTICAL, true, false, false)
                : ChartFactory.createBarChart(title, xTitle, yTitle, ds, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = c.getCategoryPlot();
        BarRenderer r = (BarRenderer) plot.getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setItemMargin(0.02);
        for (int s = 0; s < paints.size(); s++) r.setSeriesPaint(s, paints.get(s));
        CategoryAxis axis = plot.getDomainAxis();
        if (ds.getColumnCount() > 8) axis.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        plot.setRangeGridlinePaint(GRID);
        return c;
    }

    private static JFreeChart scatter(JsonNode data, String title, String xTitle, String yTitle) {
        XYSeriesCollection ds = new XYSeriesCollection();
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer();
        int i = 0;
        for (JsonNode t : data) {
            // Series keys must be unique in JFreeChart; an invisible suffix keeps equal trace names apart.
            XYSeries s = new XYSeries(t.path("name").asText("trace " + i) + "\u200b".repeat(i), false, true);
            JsonNode xs = t.path("x"), ys = t.path("y");
            for (int k = 0; k < Math.min(xs.size(), ys.size()); k++) {
                if (!xs.get(k).isNumber()) continue;
                s.add(xs.get(k).asDouble(), ys.get(k).isNumber() ? (Number) ys.get(k).asDouble() : null);
            }
            ds.addSeries(s);
            String mode = t.path("mode").asText("lines+markers");
            JsonNode marker = t.path("marker"), line = t.path("line");
            Paint p = color(line.has("color") ? line.path("color") : marker.path("color"), i);
            if (marker.has("opacity") && p instanceof Color col) {
                p = new Color(col.getRed(), col.getGreen(), col.getBlue(), (int) Math.round(255 * marker.path("opacity").asDouble(1)));
            }
            r.setSeriesPaint(i, p);
            r.setSeriesLinesVisible(i, mode.contains("lines"));
            r.setSeriesShapesVisible(i, mode.contains("markers"));
            double radius = marker.path("size").asDouble(6) / 2;
            r.setSeriesShape(i, new Ellipse2D.Double(-radius, -radius, 2 * radius, 2 * radius));
            if ("dash".equals(line.path("dash").asText())) {
                r.setSeriesStroke(i, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            } else {
                r.setSeriesStroke(i, new BasicStroke(2f));
            }
            i++;
        }
        JFreeChart c = ChartFactory.createXYLineChart(title, xTitle, yTitle, ds, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = c.getXYPlot();
        plot.setRenderer(r);
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        return c;
    }

    private static JFreeChart heatmap(JsonNode t, String title, String xTitle, String yTitle) {
        JsonNode xs = t.path("x"), ys = t.path("y"), zs = t.path("z");
        int cols = xs.size(), rows = ys.size();
        double[][] series = new double[3][rows * cols];
        double min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                JsonNode v = zs.path(r).path(c);
                double z = v.isNumber() ? v.asDouble() : Double.NaN;
                int k = r * cols + c;
                series[0][k] = c;
                series[1][k] = r;
                series[2][k] = z;
                if (Double.isFinite(z)) {
                    min = Math.min(min, z);
                    max = Math.max(max, z);
                }
            }
        }
        if (!(min <= max)) min = max = 0;
        DefaultXYZDataset ds = new DefaultXYZDataset();
        ds.addSeries("z", series);
        SymbolAxis xAxis = new SymbolAxis(xTitle, texts(xs));
        SymbolAxis yAxis = new SymbolAxis(yTitle, texts(ys));
        if (cols > 16) xAxis.setVerticalTickLabels(true);
        XYBlockRenderer r = new XYBlockRenderer();
        Viridis scale = new Viridis(min, max == min ? min + 1 : max);
        r.setPaintScale(scale);
        XYPlot plot = new XYPlot(ds, xAxis, yAxis, r);
        JFreeChart c = new JFreeChart(title, JFreeChart.DEFAULT_TITLE_FONT, plot, false);
        NumberAxis legendAxis = new NumberAxis();
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setMargin(4, 4, 40, 4);
        c.addSubtitle(legend);
        return c;
    }

    private static String[] texts(JsonNode arr) {
        String[] s = new String[arr.size()];
        for (int i = 0; i < s.length; i++) s[i] = arr.get(i).asText();
        return s;
    }

    private static void style(JFreeChart c, JsonNode fig) {
        c.setBackgroundPaint(Color.WHITE);
        c.getPlot().setBackgroundPaint(Color.WHITE);
        c.getTitle().setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 15));
        if (c.getLegend() != null) c.getLegend().setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    }

    /** A trace's CSS hex colour, or Plotly's default for trace {@code index}. */
    static Color color(JsonNode css, int index) {
        String s = css.isTextual() ? css.asText() : COLORWAY[index % COLORWAY.length];
        if (s.matches("#[0-9a-fA-F]{6}")) return new Color(Integer.parseInt(s.substring(1), 16));
        return Color.decode(COLORWAY[index % COLORWAY.length]);
    }

    /** Plotly's Viridis colour scale, by linear interpolation between its five anchor colours. */
    private record Viridis(double lower, double upper) implements PaintScale {
        private static final Color[] ANCHORS = {new Color(0x440154), new Color(0x3B528B), new Color(0x21918C),
                new Color(0x5EC962), new Color(0xFDE725)};

        @Override public double getLowerBound() { return lower; }

        @Override public double getUpperBound() { return upper; }

        @Override public Paint getPaint(double value) {
            if (!Double.isFinite(value)) return Color.WHITE;
            double f = Math.max(0, Math.min(1, (value - lower) / (upper - lower))) * (ANCHORS.length - 1);
            int i = Math.min(ANCHORS.length - 2, (int) f);
            double u = f - i;
            Color a = ANCHORS[i], b = ANCHORS[i + 1];
            return new Color((int) Math.round(a.getRed() + u * (b.getRed() - a.getRed())),
                    (int) Math.round(a.getGreen() + u * (b.getGreen() - a.getGreen())),
                    (int) Math.round(a.getBlue() + u * (b.getBlue() - a.getBlue())));
        }
    }
}
