package org.routecal.demo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.pipeline.Progress;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The README's main job at the reduced size (same code path as {@code routecal demo}): the report and every
 * checkpoint exist, the balanced (compound) set covers the experts better than the skewed one, and the evidence table
 * has every cell. About two minutes on 2 cores.
 */
class DemoPipelineTest {
    @Test
    void smallDemoProducesReportCheckpointsAndACompleteEvidenceTable(@TempDir Path tmp) throws Exception {
        DemoResult r = DemoPipeline.run(new DemoPipeline.Settings(tmp.resolve("demo"), "small", 0, false, tmp.resolve("cache")),
                Progress.NONE);
        Path out = r.out();
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("Evidence table") && html.contains("Verdict per domain"), "report sections");
        assertTrue(!java.util.regex.Pattern.compile("<script[^>]*\\bsrc\\s*=\\s*[\"']?https?:").matcher(html).find(),
                "report must load no external script (plotly.js is embedded)");
        assertTrue(html.contains("class=\"rc-chart\""), "charts present");
        for (String set : DemoPipeline.SETS) {
            for (String mode : DemoPipeline.MODES) {
                Path q = out.resolve("quantized/" + set + "-" + mode);
                assertTrue(Files.exists(q.resolve("config.json")) && Files.exists(q.resolve("quant_report.parquet")), q.toString());
                assertTrue(Files.readString(q.resolve("config.json")).contains("compressed-tensors"), q + " is compressed-tensors");
            }
        }
        EvidenceTable t = r.evidence();
        assertTrue(t.complete(), "every (set, mode, domain) cell and every set's coverage");
        assertEquals(DemoPipeline.SETS.size() * DemoPipeline.MODES.size(), t.table().rowCount());
        EvidenceTable.Coverage skewed = t.coverage().get("skewed"), compound = t.coverage().get("compound");
        assertTrue(compound.minCount() > skewed.minCount(), "compound min tokens/expert " + compound.minCount() + " vs skewed " + skewed.minCount());
        assertTrue(compound.meanEntropy() > skewed.meanEntropy(), "compound entropy " + compound.meanEntropy() + " vs skewed " + skewed.meanEntropy());
        assertTrue(compound.slotsUnderTarget() <= t.coverage().get("original").slotsUnderTarget());
        assertTrue(t.domains().contains("multilingual-greek") && t.domains().contains("code"), "per-domain evaluation " + t.domains());
        assertTrue(Files.exists(out.resolve("evidence.json")) && Files.exists(out.resolve("manifest.json")));
        assertEquals(t.verdicts().size(), t.domains().size());
        for (EvidenceTable.Verdict v : t.verdicts()) { // every verdict names its paired interval, around the difference of the means
            var ci = v.klDifference();
            assertTrue(ci.lower() <= ci.estimate() && ci.estimate() <= ci.upper(), v.domain() + ": " + ci);
            assertEquals(v.compoundKl() - v.moreKl(), ci.estimate(), 1e-9 + 1e-6 * Math.abs(v.moreKl()), v.domain() + ": the difference of the two means");
            assertTrue(v.text().contains("KL difference"), v.text());
        }
    }
}
