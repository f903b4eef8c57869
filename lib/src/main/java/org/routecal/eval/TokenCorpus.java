package org.routecal.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.routecal.RoutecalException;

/**
 * Interim corpus reader for quantize/evaluate until the tokenize area's corpus loader lands: JSONL, one sample per
 * line, {@code {"sample_id": …, "domain": …, "ids": [token ids]}} (sample_id defaults to the line number, domain to
 * "default"). A line with only {@code text} is refused with a message saying text needs the tokenizer-backed loader.
 */
public final class TokenCorpus {
    private TokenCorpus() {}

    public static List<EvalSample> read(Path file, int maxSamples) {
        if (!Files.isRegularFile(file)) throw new RoutecalException(file + ": no such corpus file");
        List<EvalSample> out = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        try {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size() && (maxSamples <= 0 || out.size() < maxSamples); i++) {
                String line = lines.get(i).strip();
                if (line.isEmpty()) continue;
                JsonNode n;
                try {
                    n = json.readTree(line);
                } catch (IOException e) {
                    throw new RoutecalException(file + ": line " + (i + 1) + " is not JSON: " + e.getMessage());
                }
                JsonNode ids = n.get("ids");
                if (ids == null || !ids.isArray()) {
                    throw new RoutecalException(file + ": line " + (i + 1) + " has no \"ids\" array"
                            + (n.has("text") || n.has("messages") ? " (text corpora need the tokenizer-backed corpus loader; pass pre-tokenized ids)" : ""));
                }
                int[] a = new int[ids.size()];
                for (int k = 0; k < a.length; k++) {
                    if (!ids.get(k).canConvertToInt()) throw new RoutecalException(file + ": line " + (i + 1) + ": ids[" + k + "] is not an integer");
                    a[k] = ids.get(k).asInt();
                }
                if (a.length == 0) throw new RoutecalException(file + ": line " + (i + 1) + ": empty \"ids\"");
                out.add(new EvalSample(n.path("sample_id").asText(Integer.toString(i + 1)), n.path("domain").asText("default"), a));
            }
        } catch (IOException e) {
            throw new RoutecalException(file + ": cannot read: " + e.getMessage(), e);
        }
        if (out.isEmpty()) throw new RoutecalException(file + ": no samples");
        return out;
    }
}
