package org.routecal.synth.extract;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A guideline for one (mode, domain), as written by {@code extract} to {@code guidelines/{mode}_{domain}.md} (the text)
 * and {@code .json}: {@code {format: "routecal.guideline", format_version: 1, mode, domain, source ("llm" |
 * "statistics"), note, model, call_id, text, statistics (rendered summary), example_ids, examples (tagged, as shown)}}.
 */
public record Guideline(String mode, String domain, String source, String note, String model, String callId, String text,
                        String statistics, List<String> exampleIds, List<String> examples) {
    public static final String FORMAT = "routecal.guideline";
    public static final int FORMAT_VERSION = 1;

    public static String baseName(String mode, String domain) { return mode + "_" + domain; }

    /** Writes the .md and .json pair into {@code dir}. */
    public void write(Path dir) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("format", FORMAT).put("format_version", FORMAT_VERSION).put("mode", mode).put("domain", domain)
                .put("source", source).put("note", note).put("model", model).put("call_id", callId).put("text", text)
                .put("statistics", statistics);
        exampleIds.forEach(n.putArray("example_ids")::add);
        examples.forEach(n.putArray("examples")::add);
        AtomicFiles.writeString(dir.resolve(baseName(mode, domain) + ".md"), text.endsWith("\n") ? text : text + "\n");
        AtomicFiles.writeJson(dir.resolve(baseName(mode, domain) + ".json"), n);
    }

    /** Reads a guideline .json; wrong format or version, or a missing field, is an error naming the file. */
    public static Guideline read(Path json) {
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(json.toFile());
        } catch (IOException e) {
            throw new RoutecalException("cannot read guideline " + json + ": " + e.getMessage(), e);
        }
        if (!FORMAT.equals(n.path("format").asText())) throw new RoutecalException(json + ": field 'format' is '" + n.path("format").asText() + "', expected " + FORMAT);
        int v = n.path("format_version").asInt(-1);
        if (v != FORMAT_VERSION) throw new RoutecalException(json + ": format_version " + v + " not supported (this build reads " + FORMAT_VERSION + ")");
        for (String f : List.of("mode", "domain", "source", "text")) {
            if (!n.hasNonNull(f)) throw new RoutecalException(json + ": missing field '" + f + "'");
        }
        List<String> ids = new ArrayList<>(), ex = new ArrayList<>();
        n.path("example_ids").forEach(x -> ids.add(x.asText()));
        n.path("examples").forEach(x -> ex.add(x.asText()));
        return new Guideline(n.get("mode").asText(), n.get("domain").asText(), n.get("source").asText(), n.path("note").asText(null),
                n.path("model").asText(null), n.path("call_id").asText(null), n.get("text").asText(), n.path("statistics").asText(""), ids, ex);
    }

    /** All guidelines in {@code dir} (files {@code *_*.json}), sorted by file name. */
    public static List<Guideline> readAll(Path dir) {
        if (!Files.isDirectory(dir)) throw new RoutecalException("guidelines directory not found: " + dir);
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().map(Guideline::read).toList();
        } catch (IOException e) {
            throw new RoutecalException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }
}
