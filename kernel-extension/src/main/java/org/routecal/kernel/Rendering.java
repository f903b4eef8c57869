package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import org.routecal.report.DisplayPart;
import org.routecal.report.Displayable;
import org.routecal.report.Figures;
import org.routecal.report.Html;
import org.routecal.report.PlotlyJs;
import org.routecal.report.Tables;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

import java.util.ArrayList;
import java.util.List;

/**
 * Turns cell results into Jupyter MIME bundles: Tablesaw tables → paged HTML, Plotly figures → the plotly JSON
 * bundle plus HTML (plotly.js itself is embedded in the first figure of the session only), {@link Displayable}
 * results → one bundle per part, anything else → its text. One instance per notebook session.
 */
public final class Rendering {
    private boolean plotlyEmbedded;

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
        } else if (value instanceof Figure f) {
            out.add(figure(f));
        } else {
            out.add(new DisplayData(String.valueOf(value)));
        }
        return out;
    }

    private DisplayData part(DisplayPart p) {
        if (p instanceof DisplayPart.TablePart t) return table(t.table());
        if (p instanceof DisplayPart.FigurePart f) return figure(f.figure());
        if (p instanceof DisplayPart.Html h) {
            DisplayData d = new DisplayData(h.html().replaceAll("<[^>]+>", ""));
            d.putHTML(h.html());
            return d;
        }
        String text = ((DisplayPart.Text) p).text();
        return new DisplayData(text);
    }

    static DisplayData table(Table t) {
        DisplayData d = new DisplayData(t.print(20));
        d.putHTML(Tables.toHtml(t));
        return d;
    }

    DisplayData figure(Figure f) {
        String id = Figures.newDivId();
        String html = Figures.toHtml(f, id);
        if (!plotlyEmbedded) {
            html = PlotlyJs.scriptTag() + html;
            plotlyEmbedded = true;
        }
        String title = f.getLayout() == null ? "" : Html.escape(String.valueOf(layoutTitle(f)));
        DisplayData d = new DisplayData("Figure" + (title.isEmpty() ? "" : ": " + title));
        d.putData(Figures.PLOTLY_MIME, parseJson(Figures.toPlotlyJson(f)));
        d.putHTML(html);
        return d;
    }

    /** basekernel serializes data with Gson; a Gson tree goes out as a JSON object, not a string. The instance
     *  parser is deprecated in new Gson but is the one that also exists in IJava's bundled Gson 2.8. */
    @SuppressWarnings("deprecation")
    private static Object parseJson(String json) {
        return new com.google.gson.JsonParser().parse(json);
    }

    private static String layoutTitle(Figure f) {
        try {
            return f.getLayout().getTitle();
        } catch (RuntimeException e) {
            return "";
        }
    }
}
