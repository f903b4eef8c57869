package org.routecal.synth;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** System-prompt personas per domain, from {@code personas.json} (overridable in {@code --prompt-dir}). */
public final class Personas {
    private final JsonNode table;

    public Personas(PromptTemplates templates) {
        try {
            table = Json.MAPPER.readTree(templates.load("personas.json"));
        } catch (IOException e) {
            throw new RoutecalException("personas.json (" + templates.source("personas.json") + ") is not valid JSON: " + e.getMessage(), e);
        }
    }

    /** The personas of {@code domain}, or the {@code default} list. */
    public List<String> of(String domain) {
        JsonNode list = table.has(domain) ? table.get(domain) : table.get("default");
        List<String> out = new ArrayList<>();
        if (list != null) list.forEach(n -> out.add(n.asText()));
        if (out.isEmpty()) throw new RoutecalException("personas.json has no personas for '" + domain + "' and no 'default' list");
        return out;
    }
}
