package org.routecal.report;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import tech.tablesaw.plotly.components.Figure;

import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * tablesaw-jsplot {@link Figure} → inline HTML (a div plus Tablesaw's own {@code Plotly.newPlot} script; plotly.js
 * itself comes from {@link PlotlyJs} once per page) and → the {@code application/vnd.plotly.v1+json} bundle
 * ({@code {"data": [...], "layout": {...}}}) that JupyterLab's plotly renderer reads.
 */
public final class Figures {
    public static final String PLOTLY_MIME = "application/vnd.plotly.v1+json";

    /** Tablesaw emits JavaScript object literals (unquoted keys, single quotes, trailing commas), not JSON. */
    private static final ObjectMapper LENIENT = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES, JsonReadFeature.ALLOW_SINGLE_QUOTES,
                    JsonReadFeature.ALLOW_TRAILING_COMMA, JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS,
                    JsonReadFeature.ALLOW_JAVA_COMMENTS)
            .build();
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final Pattern VAR = Pattern.compile("var\\s+(layout|trace\\d+)\\s*=\\s*");
    private static final Pattern DATA = Pattern.compile("var\\s+data\\s*=\\s*\\[([^\\]]*)\\]");

    private Figures() {}

    /** A div id usable inside Tablesaw's JS identifiers ({@code target_<id>}): letters and digits only. */
    public static String newDivId() {
        return "rcfig" + UUID.randomUUID().toString().replace("-", "");
    }

    /** The figure's div and drawing script; needs {@code window.Plotly} on the page (see {@link PlotlyJs}). */
    public static String toHtml(Figure figure, String divId) {
        if (!divId.matches("[A-Za-z0-9_]+")) throw new IllegalArgumentException("div id must be [A-Za-z0-9_]+: " + divId);
        return "<div id=\"" + divId + "\" class=\"rc-figure\"></div>\n" + figure.asJavascript(divId);
    }

    /** The Plotly JSON bundle of the figure: {@code {"data": [traces…], "layout": {…}}}. */
    public static String toPlotlyJson(Figure figure) {
        String js = figure.asJavascript("rcjson");
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        ObjectNode layout = out.putObject("layout");
        Map<String, JsonNode> vars = new java.util.HashMap<>();
        try {
            Matcher m = VAR.matcher(js);
            while (m.find()) {
                try (JsonParser p = LENIENT.createParser(js.substring(m.end()))) {
                    vars.put(m.group(1), unescapeStrings(LENIENT.readTree(p)));
                }
            }
            if (vars.get("layout") instanceof ObjectNode l) layout.setAll(l);
            ArrayNode data = out.putArray("data");
            Matcher d = DATA.matcher(js);
            if (d.find()) {
                for (String name : d.group(1).split(",")) {
                    JsonNode trace = vars.get(name.trim());
                    if (trace != null) data.add(trace);
                }
            }
            out.set("data", data);
            out.set("layout", layout);
            return JSON.writeValueAsString(out);
        } catch (IOException e) {
            throw new RoutecalException("cannot convert the figure's Tablesaw script to Plotly JSON: " + e.getMessage(), e);
        }
    }

    /** Titles come out of Tablesaw's templates HTML-escaped; JSON wants the plain text back. */
    private static JsonNode unescapeStrings(JsonNode n) {
        if (n instanceof ObjectNode o) {
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                e.setValue(unescapeStrings(e.getValue()));
            }
        } else if (n instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) a.set(i, unescapeStrings(a.get(i)));
        } else if (n.isTextual()) {
            return TextNode.valueOf(Html.unescapeBasic(n.textValue()));
        }
        return n;
    }
}
