package org.routecal.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.report.BrowserCheck;
import org.routecal.route.RouteReportHostileTest;
import org.routecal.route.RouteResult;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * The demo's report.html with a hostile domain name in the evaluation results and a route run over a hostile corpus:
 * opened in headless Chromium, no injected script runs, the domain shows as text, every chart draws, and the run
 * folder's absolute path is not in the page.
 */
class DemoReportHostileTest {
    @Test
    void hostileDomainRendersAsText(@TempDir Path tmp) throws Exception {
        String hostile = BrowserCheck.HOSTILE;
        RouteResult route = RouteReportHostileTest.hostileRun(tmp.resolve("route"));
        ObjectNode root = new ObjectMapper().createObjectNode();
        ArrayNode domains = root.putArray("domains");
        for (String domain : new String[] {hostile, "math"}) {
            domains.addObject().put("model", "original").put("domain", domain).put("ppl", 10.0);
            for (String set : DemoPipeline.SETS) {
                for (String mode : DemoPipeline.MODES) {
                    domains.addObject().put("model", set + "-" + mode).put("domain", domain).put("ppl", 11.0)
                            .put("kl", 0.1 + 0.01 * set.length());
                }
            }
        }
        ArrayNode samples = root.putArray("samples"); // per-sample rows: the verdicts' paired intervals come from them
        for (String domain : new String[] {hostile, "math"}) {
            for (int i = 0; i < 3; i++) {
                samples.addObject().put("model", "original").put("sample_id", domain + i).put("domain", domain).put("tokens", 10 + i);
                for (String set : DemoPipeline.SETS) {
                    for (String mode : DemoPipeline.MODES) {
                        samples.addObject().put("model", set + "-" + mode).put("sample_id", domain + i).put("domain", domain)
                                .put("tokens", 10 + i).put("kl", 0.1 + 0.01 * set.length() + 0.001 * i);
                    }
                }
            }
        }
        Path evalJson = tmp.resolve("eval.json");
        new ObjectMapper().writeValue(evalJson.toFile(), root);
        Map<String, RouteResult> coverage = new LinkedHashMap<>();
        for (String set : DemoPipeline.SETS) coverage.put(set, route);
        EvidenceTable table = EvidenceTable.build(evalJson, coverage, 1000, 900);
        Path out = tmp.resolve("demo");
        Path report = out.resolve("report.html");
        DemoReport.write(report, table, coverage, out, new DemoPipeline.Settings(out, "small", 0, false, tmp.resolve("cache")),
                Map.of("route", 1.5));
        assertFalse(Files.readString(report).contains(tmp.toAbsolutePath().toString()), "no absolute path in the report");
        // 2 demo charts + 7 route charts
        BrowserCheck.assertPage(report, "--charts", "9", "--text", hostile);
    }
}
