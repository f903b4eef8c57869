package org.routecal.synth.synthesize;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.synth.AppendLog;
import org.routecal.synth.SynthFiles;

import java.nio.file.Path;
import java.util.List;

/**
 * Files rebuilt from the {@code synthetic.jsonl} log after every run (so they always equal the log, resumed or not):
 * {@code synthetic_accepted.jsonl}, the accepted rows as a corpus ({@code {sample_id, domain, mode, round, text}}, the
 * text already in the target chat template) that {@code refine} merges with the original corpus.
 */
public final class SyntheticExport {
    private SyntheticExport() {}

    public static final String ACCEPTED = "synthetic_accepted.jsonl";

    public static void write(Path dir, List<SyntheticRow> rows) {
        StringBuilder sb = new StringBuilder();
        for (SyntheticRow r : rows) {
            if (!r.accepted()) continue;
            ObjectNode n = AppendLog.JSON.createObjectNode();
            n.put("sample_id", "synthetic/" + r.key()).put("domain", r.domain()).put("mode", r.mode()).put("round", r.round())
                    .put("text", r.text());
            sb.append(n).append('\n');
        }
        SynthFiles.writeString(dir.resolve(ACCEPTED), sb.toString());
    }
}
