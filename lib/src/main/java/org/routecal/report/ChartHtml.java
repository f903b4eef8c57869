package org.routecal.report;

import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

/**
 * A {@link Chart} as an HTML fragment that shows something everywhere: the static PNG first (visible without scripts,
 * in untrusted notebooks and sanitised viewers), replaced by the interactive Plotly chart once plotly.js is available
 * (see {@link PlotlyJs#loader}). The figure's JSON goes through {@link Html#scriptJson}, so no value of it can end the
 * script. The page (or an earlier output) must also carry {@link PlotlyJs#bundleTag} for the interactive chart.
 */
public final class ChartHtml {
    private ChartHtml() {}

    /** The chart with its PNG rendered here (empty PNG: the interactive chart only). */
    public static String render(Chart chart) {
        return render(chart, ChartImage.png(chart));
    }

    public static String render(Chart chart, Optional<byte[]> png) {
        String id = "rcchart" + UUID.randomUUID().toString().replace("-", "");
        StringBuilder b = new StringBuilder(4096);
        b.append("<div class=\"rc-chart\" id=\"").append(id).append("\"><div class=\"rc-plot\"></div>");
        png.ifPresent(p -> b.append("<img class=\"rc-static\" style=\"max-width:100%\" alt=\"")
                .append(Html.escape(chart.title())).append("\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(p)).append("\">"));
        b.append("<div class=\"rc-chart-note\" style=\"font-size:11px;color:#888\"></div></div>\n<script>")
                .append(PlotlyJs.loader())
                .append("(function(){var d=document.getElementById('").append(id).append("'),f=")
                .append(Html.scriptJson(chart.toJson()))
                .append(";window.routecalPlotly().then(function(P){return P.newPlot(d.querySelector('.rc-plot'),f.data,f.layout,")
                .append("{responsive:true});}).then(function(){var i=d.querySelector('img.rc-static');if(i)i.remove();")
                .append("d.setAttribute('data-rc-drawn','1');},function(e){d.querySelector('.rc-chart-note').textContent=")
                .append("'interactive chart unavailable ('+e.message+')'+(d.querySelector('img')?'; static image shown':'');});})();")
                .append("</script>\n");
        return b.toString();
    }
}
