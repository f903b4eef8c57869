package org.routecal.report;

/** {@link DisplayPart}s as HTML fragments: the one renderer behind reports and notebook outputs. */
public final class Parts {
    private Parts() {}

    /** The part's HTML; a chart includes its static image (the page supplies the plotly.js bundle). */
    public static String html(DisplayPart part) {
        if (part instanceof DisplayPart.Text t) return Html.pre(t.text());
        if (part instanceof DisplayPart.Heading h) return "<h2>" + Html.escape(h.text()) + "</h2>";
        if (part instanceof DisplayPart.Paragraph p) return "<p>" + Html.escape(p.text()) + "</p>";
        if (part instanceof DisplayPart.TablePart t) return Tables.toHtml(t.table());
        if (part instanceof DisplayPart.ChartPart c) return ChartHtml.render(c.chart());
        return legend((DisplayPart.Legend) part);
    }

    private static String legend(DisplayPart.Legend l) {
        StringBuilder b = new StringBuilder("<div class=\"rc-legend\" style=\"border:1px solid #ccc;padding:6px 10px;"
                + "margin:8px 0;display:inline-block;font-size:13px\">");
        if (!l.title().isEmpty()) b.append("<b>").append(Html.escape(l.title())).append("</b><br>");
        for (DisplayPart.Legend.Entry e : l.entries()) {
            // The colour was checked to be #rrggbb when the entry was made, so it is safe in the style attribute.
            b.append("<span style=\"display:inline-block;width:12px;height:12px;margin-right:6px;vertical-align:middle;background:")
                    .append(e.color()).append("\"></span><b>").append(Html.escape(e.label())).append("</b> — ")
                    .append(Html.escape(e.meaning())).append("<br>");
        }
        return b.append("</div>").toString();
    }
}
