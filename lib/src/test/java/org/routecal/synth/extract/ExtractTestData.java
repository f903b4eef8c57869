package org.routecal.synth.extract;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;

import java.nio.file.Path;
import java.util.List;

/** Bracketed test input shared by the synth tests. */
public final class ExtractTestData {
    private ExtractTestData() {}

    /** 40 samples per domain; "zeta gamma" only ever appears in red spans, "the common" only in blue. */
    public static Path writeBracketed(Path dir, String mode) {
        Path f = dir.resolve("bracketed_" + mode + ".jsonl");
        try (Jsonl.Appender log = Jsonl.appender(f)) {
            for (String domain : List.of("code", "math")) {
                for (int i = 0; i < 40; i++) {
                    int red = 1 + i % 5;
                    String text = "<blue>the common words here</blue> plain " + ("<red>zeta gamma " + domain + "</red> ").repeat(red) + "<blue>the common</blue>";
                    ObjectNode n = Json.MAPPER.createObjectNode();
                    n.put("domain", domain).put("sample_id", domain + "-" + i).put("mode", mode)
                            .put("n_tokens_total", 20).put("n_tokens_blue", 6).put("n_tokens_red", 3 * red).put("text", text);
                    log.append(n);
                }
            }
        }
        return f;
    }

}
