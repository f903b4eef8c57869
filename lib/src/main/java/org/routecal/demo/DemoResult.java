package org.routecal.demo;

import org.routecal.report.Displayable;
import org.routecal.report.DisplayPart;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** What {@code routecal demo} returns: the run directory, the evidence table and the timings. */
public record DemoResult(Path out, EvidenceTable evidence, Map<String, Double> timings) implements Displayable {
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        sb.append("demo finished in ").append(timings.get("total")).append(" s; report: ").append(out.resolve("report.html")).append('\n');
        sb.append("calibration tokens: original ").append(evidence.originalTokens()).append(", compound (and original+more) ")
                .append(evidence.compoundTokens()).append('\n');
        sb.append(evidence.markdown());
        evidence.verdicts().forEach(v -> sb.append(v.domain()).append(": ").append(v.text())
                .append(String.format(" (mean KL %.5f vs %.5f)%n", v.compoundKl(), v.moreKl())));
        return sb.toString();
    }

    @Override
    public List<DisplayPart> displayParts() {
        return List.of(DisplayPart.table(evidence.verdictTable()), DisplayPart.table(evidence.table()),
                DisplayPart.text("report: " + out.resolve("report.html")));
    }
}
