package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.report.Chart;
import org.routecal.report.ChartHtml;
import org.routecal.report.Html;
import org.routecal.report.HtmlReport;

import java.util.Base64;
import java.util.Optional;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An executed notebook as one self-contained HTML page: markdown cells (a small subset: headings, lists, code,
 * emphasis, links), code cells with their source, and outputs in their richest form (HTML, SVG, PNG, text). A chart
 * output is drawn anew from its Plotly JSON and PNG (so the page holds plotly.js once, in its head, whatever the
 * outputs carried); markdown text is escaped, and only papermill's own error marker passes as HTML.
 */
final class NotebookHtml {
    private static final Pattern ANSI = Pattern.compile("\u001B\\[[0-9;]*[A-Za-z]");
    private static final Pattern LINK = Pattern.compile("\\[([^\\]]+)]\\(([^)\\s]+)\\)");

    private NotebookHtml() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    static String render(JsonNode nb, String title) {
        boolean[] charts = {false};
        StringBuilder b = new StringBuilder();
        b.append("<style>.rc-cell{margin:12px 0}.rc-src{background:#f5f5ff;border-left:3px solid #88a;padding:6px;"
                + "white-space:pre-wrap;font-size:13px}.rc-err{background:#fff0f0;color:#900}.rc-in{color:#88a;font-size:11px}"
                + "</style>\n");
        for (JsonNode cell : nb.path("cells")) {
            String type = cell.path("cell_type").asText();
            String src = Parameters.source(cell);
            b.append("<div class=\"rc-cell\">");
            if (type.equals("markdown")) {
                b.append(Parameters.hasTag(cell, "papermill-error-cell-tag") && src.startsWith("<span") ? src : markdown(src));
            } else if (type.equals("code")) {
                JsonNode n = cell.path("execution_count");
                b.append("<div class=\"rc-in\">In [").append(n.isNull() || n.isMissingNode() ? " " : n.asText()).append("]</div>");
                b.append("<pre class=\"rc-src\">").append(Html.escape(src)).append("</pre>");
                for (JsonNode o : cell.path("outputs")) b.append(output(o, charts));
            }
            b.append("</div>\n");
        }
        return HtmlReport.page(title, b.toString(), charts[0]);
    }

    private static String output(JsonNode o, boolean[] charts) {
        switch (o.path("output_type").asText()) {
            case "stream":
                return "<pre class=\"rc-text" + (o.path("name").asText().equals("stderr") ? " rc-err" : "") + "\">"
                        + Html.escape(text(o.path("text"))) + "</pre>";
            case "error": {
                StringBuilder t = new StringBuilder(o.path("ename").asText()).append(": ").append(o.path("evalue").asText());
                for (JsonNode line : o.path("traceback")) t.append('\n').append(line.asText());
                return "<pre class=\"rc-err\">" + Html.escape(ANSI.matcher(t).replaceAll("")) + "</pre>";
            }
            default: {
                JsonNode data = o.path("data");
                if (data.has(Chart.PLOTLY_MIME)) {
                    charts[0] = true;
                    JsonNode fig = data.get(Chart.PLOTLY_MIME);
                    try {
                        if (fig.isTextual()) fig = JSON.readTree(fig.asText());
                    } catch (Exception e) {
                        return Html.pre("(a chart output whose Plotly JSON does not parse: " + e.getMessage() + ")");
                    }
                    Optional<byte[]> png = data.has("image/png")
                            ? Optional.of(Base64.getMimeDecoder().decode(text(data.get("image/png")))) : Optional.empty();
                    return "<div class=\"rc-out\">" + ChartHtml.render(Chart.fromJson(fig), png) + "</div>";
                }
                if (data.has("text/html")) return "<div class=\"rc-out\">" + text(data.get("text/html")) + "</div>";
                if (data.has("image/svg+xml")) return "<div class=\"rc-out\">" + text(data.get("image/svg+xml")) + "</div>";
                if (data.has("image/png")) {
                    return "<img src=\"data:image/png;base64," + text(data.get("image/png")).replace("\n", "") + "\">";
                }
                if (data.has("text/plain")) return "<pre class=\"rc-text\">" + Html.escape(text(data.get("text/plain"))) + "</pre>";
                return "";
            }
        }
    }

    /** nbformat multiline strings may be a string or a list of strings. */
    private static String text(JsonNode n) {
        if (n.isArray()) {
            StringBuilder b = new StringBuilder();
            n.forEach(x -> b.append(x.asText()));
            return b.toString();
        }
        return n.asText();
    }

    static String markdown(String md) {
        StringBuilder b = new StringBuilder();
        boolean inCode = false, inList = false;
        StringBuilder para = new StringBuilder();
        for (String line : md.split("\n", -1)) {
            if (line.strip().startsWith("```")) {
                para = flush(b, para);
                if (inList) { b.append("</ul>"); inList = false; }
                b.append(inCode ? "</pre>" : "<pre>");
                inCode = !inCode;
                continue;
            }
            if (inCode) {
                b.append(Html.escape(line)).append('\n');
                continue;
            }
            Matcher h = Pattern.compile("^(#{1,6})\\s+(.*)$").matcher(line);
            if (h.matches()) {
                para = flush(b, para);
                int level = h.group(1).length();
                b.append("<h").append(level).append('>').append(inline(h.group(2))).append("</h").append(level).append('>');
            } else if (line.matches("^\\s*[-*]\\s+.*")) {
                para = flush(b, para);
                if (!inList) { b.append("<ul>"); inList = true; }
                b.append("<li>").append(inline(line.replaceFirst("^\\s*[-*]\\s+", ""))).append("</li>");
            } else if (line.isBlank()) {
                para = flush(b, para);
                if (inList) { b.append("</ul>"); inList = false; }
            } else {
                para.append(line).append(' ');
            }
        }
        flush(b, para);
        if (inList) b.append("</ul>");
        if (inCode) b.append("</pre>");
        return b.toString();
    }

    private static StringBuilder flush(StringBuilder b, StringBuilder para) {
        String text = para.toString().strip();
        if (!text.isEmpty()) b.append("<p>").append(inline(text)).append("</p>");
        return new StringBuilder();
    }

    private static String inline(String s) {
        String e = Html.escape(s);
        e = e.replaceAll("`([^`]+)`", "<code>$1</code>");
        e = e.replaceAll("\\*\\*([^*]+)\\*\\*", "<b>$1</b>");
        e = e.replaceAll("(?<![*\\w])\\*([^*]+)\\*(?![*\\w])", "<i>$1</i>");
        // Only web and relative links: a javascript: URL in a shared notebook must not become a clickable script.
        return LINK.matcher(e).replaceAll(m -> m.group(2).matches("(?i)(https?://|#|\\.{0,2}/)?[^:]*|(?i)https?://.*")
                ? Matcher.quoteReplacement("<a href=\"" + m.group(2) + "\">" + m.group(1) + "</a>") : Matcher.quoteReplacement(m.group()));
    }
}
