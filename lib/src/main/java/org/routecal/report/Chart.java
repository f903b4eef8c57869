package org.routecal.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

import java.util.List;

/**
 * A Plotly chart as Plotly's own JSON ({@code {"data": [traces…], "layout": {…}}}), built with Jackson. This one value
 * feeds every rendering: the {@code application/vnd.plotly.v1+json} notebook output, the interactive HTML
 * ({@link ChartHtml}) and the static PNG ({@link ChartImage}). Non-finite numbers become JSON {@code null}, which
 * Plotly draws as a gap (a NaN must never turn an axis categorical).
 * <pre>{@code
 * Chart.titled("Load").axes("expert", "tokens").bar("layer 0", experts, counts).bar("layer 1", experts, counts1)
 * }</pre>
 * Trace kinds: {@link #bar}, {@link #markers}, {@link #lines} and {@link #heatmap} — what our reports draw and what
 * {@link ChartImage} can render without a browser.
 */
public final class Chart {
    public static final String PLOTLY_MIME = "application/vnd.plotly.v1+json";
    static final ObjectMapper JSON = new ObjectMapper();
    private final ObjectNode figure = JSON.createObjectNode();
    private final ArrayNode data = figure.putArray("data");
    private final ObjectNode layout = figure.putObject("layout");

    private Chart(String title) {
        layout.putObject("title").put("text", title);
        layout.put("height", 420);
    }

    public static Chart titled(String title) {
        return new Chart(title == null ? "" : title);
    }

    // ---- layout

    public Chart axes(String xTitle, String yTitle) {
        layout.putObject("xaxis").putObject("title").put("text", xTitle);
        layout.putObject("yaxis").putObject("title").put("text", yTitle);
        return this;
    }

    public Chart size(int width, int height) {
        if (width > 0) layout.put("width", width);
        if (height > 0) layout.put("height", height);
        return this;
    }

    /** Bars of several traces side by side ({@code group}, the default) or on top of each other ({@code stack}). */
    public Chart stacked() {
        layout.put("barmode", "stack");
        return this;
    }

    public Chart grouped() {
        layout.put("barmode", "group");
        return this;
    }

    // ---- traces

    /** Vertical bars at categories {@code x} (shown as text). */
    public Chart bar(String name, List<?> x, double[] y) {
        return bar(name, x, y, null);
    }

    /** Vertical bars in one colour (a CSS colour such as {@code #1565c0}; null: Plotly's next default colour). */
    public Chart bar(String name, List<?> x, double[] y, String color) {
        requireSameLength(name, x.size(), y.length);
        ObjectNode t = trace("bar", name);
        ArrayNode xs = t.putArray("x");
        for (Object o : x) xs.add(String.valueOf(o));
        numbers(t.putArray("y"), y);
        if (color != null) t.putObject("marker").put("color", color);
        return this;
    }

    /** A scatter of points. */
    public Chart markers(String name, double[] x, double[] y, String color, double size, double opacity) {
        requireSameLength(name, x.length, y.length);
        ObjectNode t = trace("scatter", name).put("mode", "markers");
        numbers(t.putArray("x"), x);
        numbers(t.putArray("y"), y);
        ObjectNode m = t.putObject("marker").put("size", size).put("opacity", opacity);
        if (color != null) m.put("color", color);
        return this;
    }

    /** A line through the points, in order. */
    public Chart lines(String name, double[] x, double[] y) {
        return lines(name, x, y, null, false);
    }

    /** A line in one colour, dashed or solid (dashed: thresholds and boxes drawn over data). */
    public Chart lines(String name, double[] x, double[] y, String color, boolean dashed) {
        requireSameLength(name, x.length, y.length);
        ObjectNode t = trace("scatter", name).put("mode", "lines");
        numbers(t.putArray("x"), x);
        numbers(t.putArray("y"), y);
        if (color != null || dashed) {
            ObjectNode line = t.putObject("line");
            if (color != null) line.put("color", color);
            if (dashed) line.put("dash", "dash");
        }
        return this;
    }

    /** A heatmap: {@code z[row][column]}, rows labelled {@code y}, columns {@code x}. */
    public Chart heatmap(List<?> x, List<?> y, double[][] z) {
        if (z.length != y.size()) throw new IllegalArgumentException("heatmap: " + z.length + " rows but " + y.size() + " row labels");
        ObjectNode t = trace("heatmap", null);
        ArrayNode xs = t.putArray("x"), ys = t.putArray("y"), zs = t.putArray("z");
        for (Object o : x) xs.add(String.valueOf(o));
        for (Object o : y) ys.add(String.valueOf(o));
        for (double[] row : z) {
            if (row.length != x.size()) throw new IllegalArgumentException("heatmap: a row of " + row.length + " for " + x.size() + " columns");
            numbers(zs.addArray(), row);
        }
        t.put("colorscale", "Viridis");
        return this;
    }

    // ---- from Tablesaw tables (the notebook's everyday charts)

    /** One bar trace per numeric column {@code ys}, at the categories of column {@code x}. */
    public static Chart bars(String title, Table table, String x, String... ys) {
        Chart c = titled(title).axes(x, ys.length == 1 ? ys[0] : "");
        List<String> cats = table.column(x).asList().stream().map(String::valueOf).toList();
        for (String y : ys) c.bar(y, cats, numeric(table, y));
        return c;
    }

    /** One line per numeric column {@code ys} against numeric column {@code x}. */
    public static Chart lines(String title, Table table, String x, String... ys) {
        Chart c = titled(title).axes(x, ys.length == 1 ? ys[0] : "");
        for (String y : ys) c.lines(y, numeric(table, x), numeric(table, y));
        return c;
    }

    /** Points of numeric column {@code y} against numeric column {@code x}. */
    public static Chart scatter(String title, Table table, String x, String y) {
        return titled(title).axes(x, y).markers(y, numeric(table, x), numeric(table, y), null, 6, 0.8);
    }

    private static double[] numeric(Table table, String name) {
        Column<?> c = table.column(name);
        if (!(c instanceof NumericColumn<?> n)) {
            throw new RoutecalException("column '" + name + "' of table '" + table.name() + "' is " + c.type().name()
                    + ", not numeric: a chart's values must be numbers");
        }
        return n.asDoubleArray();
    }

    // ---- reading

    public String title() {
        return layout.path("title").path("text").asText("");
    }

    /** A copy of the Plotly JSON tree. */
    public ObjectNode json() {
        return figure.deepCopy();
    }

    /** The Plotly JSON text (plain JSON: see {@link Html#scriptJson} before putting it into a page). */
    public String toJson() {
        return figure.toString();
    }

    @Override
    public String toString() {
        return "Chart: " + title();
    }

    // ---- internals

    private ObjectNode trace(String type, String name) {
        ObjectNode t = data.addObject().put("type", type);
        if (name != null) t.put("name", name);
        return t;
    }

    private static void numbers(ArrayNode into, double[] values) {
        for (double v : values) {
            if (Double.isFinite(v)) into.add(v);
            else into.addNull();
        }
    }

    private static void requireSameLength(String name, int x, int y) {
        if (x != y) throw new IllegalArgumentException("trace '" + name + "': " + x + " x values but " + y + " y values");
    }

    /** Reads a figure back from Plotly JSON (e.g. a notebook's {@value #PLOTLY_MIME} output). */
    public static Chart fromJson(JsonNode json) {
        Chart c = new Chart("");
        if (json.path("data").isArray()) c.data.addAll((ArrayNode) json.get("data"));
        if (json.path("layout").isObject()) {
            c.layout.removeAll();
            c.layout.setAll((ObjectNode) json.get("layout"));
        }
        return c;
    }
}
