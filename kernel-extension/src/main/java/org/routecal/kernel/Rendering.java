package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import org.routecal.report.Chart;
import org.routecal.report.ChartHtml;
import org.routecal.report.ChartImage;
import org.routecal.report.DisplayPart;
import org.routecal.report.Displayable;
import org.routecal.report.Html;
import org.routecal.report.Parts;
import org.routecal.report.PlotlyJs;
import org.routecal.report.Tables;
import tech.tablesaw.api.Table;

import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Turns cell results into Jupyter MIME bundles: Tablesaw tables → paged HTML, {@link Chart}s → a self-sufficient
 * chart output, {@link Displayable} results → one bundle per part, anything else → its text. One per session.
 * <p>
 * A chart output carries: the Plotly JSON ({@code application/vnd.plotly.v1+json}, drawn natively by JupyterLab,
 * VS Code and nteract), a static PNG ({@code image/png}, for GitHub, nbviewer without JS and PDF export), and HTML
 * holding the same PNG plus the script that replaces it by the interactive chart. The gzipped plotly.js bundle goes
 * into the first chart output each front end (Jupyter client session) receives; every other chart finds it in the
 * page or in the browser's cache (see {@link PlotlyJs}), so charts draw after a reload, in a second tab, or after the
 * output holding the bundle was cleared; untrusted notebooks show the PNG.
 */
public final class Rendering {
    private final Set<String> clientsWithBundle = new HashSet<>();
    private String client = "";

    /** The Jupyter session id of the front end whose request is running (headless runs: one fixed id). */
    public synchronized void forClient(String sessionId) {
        client = sessionId == null ? "" : sessionId;
    }

    /** The bundles to show for {@code value}, in order (empty for null). */
    public synchronized List<DisplayData> render(Object value) {
        List<DisplayData> out = new ArrayList<>();
        if (value == null) return out;
        if (value instanceof DisplayData d) {
            out.add(d);
        } else if (value instanceof Displayable r) {
            for (DisplayPart p : r.displayParts()) out.add(part(p));
            if (out.isEmpty()) out.add(new DisplayData(String.valueOf(value)));
        } else if (value instanceof Table t) {
            out.add(table(t));
        } else if (value instanceof Chart c) {
            out.add(chart(c));
        } else if (value instanceof tech.tablesaw.plotly.components.Figure) {
            out.add(new DisplayData("a tablesaw-jsplot Figure is not drawn here: use org.routecal.report.Chart "
                    + "(Chart.bars(table, \"x\", \"y\"), Chart.lines, Chart.scatter), which also shows in untrusted "
                    + "notebooks and static viewers"));
        } else {
            out.add(new DisplayData(String.valueOf(value)));
        }
        return out;
    }

    private DisplayData part(DisplayPart p) {
        if (p instanceof DisplayPart.TablePart t) return table(t.table());
        if (p instanceof DisplayPart.ChartPart c) return chart(c.chart());
        String text = p instanceof DisplayPart.Text t ? t.text() : p instanceof DisplayPart.Heading h ? h.text()
                : p instanceof DisplayPart.Paragraph q ? q.text() : ((DisplayPart.Legend) p).title();
        DisplayData d = new DisplayData(text);
        if (!(p instanceof DisplayPart.Text)) d.putHTML(Parts.html(p));
        return d;
    }

    static DisplayData table(Table t) {
        DisplayData d = new DisplayData(t.print(20));
        d.putHTML(Tables.toHtml(t));
        return d;
    }

    DisplayData chart(Chart c) {
        Optional<byte[]> png = ChartImage.png(c);
        String html = ChartHtml.render(c, png);
        if (clientsWithBundle.add(client)) html = PlotlyJs.bundleTag() + html;
        DisplayData d = new DisplayData(c.toString());
        d.putData(MIMEType.parse(Chart.PLOTLY_MIME), parseJson(c.toJson()));
        png.ifPresent(p -> d.putData(MIMEType.IMAGE_PNG, Base64.getEncoder().encodeToString(p)));
        d.putHTML(html);
        return d;
    }

    /** basekernel serializes data with Gson; a Gson tree goes out as a JSON object, not a string. The instance
     *  parser is deprecated in new Gson but is the one that also exists in IJava's bundled Gson 2.8. */
    @SuppressWarnings("deprecation")
    private static Object parseJson(String json) {
        return new com.google.gson.JsonParser().parse(json);
    }

    /** Text for an HTML-less host (escaped). */
    static String pre(String text) {
        return Html.pre(text);
    }
}
