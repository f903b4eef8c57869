package org.routecal.route;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.report.BrowserCheck;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * report.html of a real route run whose corpus carries hostile domain names, sample ids and texts: opened in headless
 * Chromium, no injected script runs, the domain shows as text, every chart draws, and no absolute path of the
 * machine appears in the page.
 */
public class RouteReportHostileTest {
    /** A route run on the tiny Qwen3-MoE fixture over 4 samples whose ids, texts and half of whose domains are hostile. */
    public static RouteResult hostileRun(Path out) throws Exception {
        String hostile = BrowserCheck.HOSTILE;
        List<RoutedSample> samples = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            int n = 12;
            int[] ids = new int[n], cs = new int[n], ce = new int[n];
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < n; i++) {
                ids[i] = (s * 31 + i * 7) % 256;
                cs[i] = text.length();
                text.append(i == 0 ? hostile : " w" + ids[i]);
                ce[i] = text.length();
            }
            samples.add(new RoutedSample(hostile + s, s % 2 == 0 ? hostile : "plain", text.toString(), ids, cs, ce));
        }
        try (MoeModel model = MoeModel.load(RouteStageTest.fixture("qwen3_moe"))) {
            return RouteStage.run(model, samples, id -> "w" + id, RouteParams.defaults(), out, Map.of(), Map.of("seed", 1), Progress.NONE);
        }
    }

    @Test
    void hostileCorpusValuesRenderAsText(@TempDir Path out) throws Exception {
        String hostile = BrowserCheck.HOSTILE;
        hostileRun(out);
        Path report = out.resolve(RouteRunDir.REPORT);
        String html = Files.readString(report);
        assertFalse(html.contains(out.toAbsolutePath().toString()), "no absolute path of the machine in the report");
        BrowserCheck.assertPage(report, "--charts", "7", "--text", hostile);
    }
}
