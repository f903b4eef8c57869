package org.routecal.synth.synthesize;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.io.Jsonl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One candidate of {@code synthesize}, accepted or not, as logged in {@code synthetic.jsonl} (one JSON object a line)
 * and exported to {@code synthetic.parquet}. Reference columns: {@code domain, system_style, seed_augmentation (the
 * generator's raw answer), quality_score (share of the system/user/assistant sections present; the reference's was a
 * constant "5.0"), n_tokens (target tokenizer, rendered text)}. Ours: {@code key, mode, round, index, text (rendered in
 * the target's chat template), routing_score (deficit tokens covered per token), gain, candidate_js, corpus_js,
 * accepted, reason, fewshot_ids, llm_call_id}. {@code key = mode/domain/round/index} is unique in a log: a resumed
 * run skips every key already present.
 */
public record SyntheticRow(String key, String mode, String domain, int round, int index, String systemStyle,
                           String seedAugmentation, String text, double qualityScore, int nTokens, double routingScore,
                           long gain, double candidateJs, double corpusJs, boolean accepted, String reason,
                           List<String> fewshotIds, String llmCallId) {

    public static String key(String mode, String domain, int round, int index) {
        return mode + "/" + domain + "/" + round + "/" + index;
    }

    public ObjectNode toJson() {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("key", key).put("mode", mode).put("domain", domain).put("round", round).put("index", index)
                .put("system_style", systemStyle).put("seed_augmentation", seedAugmentation).put("text", text)
                .put("quality_score", qualityScore).put("n_tokens", nTokens).put("routing_score", num(routingScore))
                .put("gain", gain).put("candidate_js", num(candidateJs)).put("corpus_js", num(corpusJs))
                .put("accepted", accepted).put("reason", reason).put("llm_call_id", llmCallId);
        fewshotIds.forEach(n.putArray("fewshot_ids")::add);
        return n;
    }

    /** NaN (not computed) is stored as -1 so the JSON stays standard. */
    private static double num(double d) { return Double.isNaN(d) ? -1 : d; }

    public static SyntheticRow fromJson(JsonNode n, Path file, int line) {
        for (String f : List.of("key", "mode", "domain", "round", "index", "accepted", "reason")) {
            if (!n.hasNonNull(f)) throw new RoutecalException(file + " row " + line + ": missing field '" + f + "'");
        }
        List<String> ids = new ArrayList<>();
        n.path("fewshot_ids").forEach(x -> ids.add(x.asText()));
        return new SyntheticRow(n.get("key").asText(), n.get("mode").asText(), n.get("domain").asText(), n.get("round").asInt(),
                n.get("index").asInt(), n.path("system_style").asText(null), n.path("seed_augmentation").asText(null),
                n.path("text").asText(null), n.path("quality_score").asDouble(0), n.path("n_tokens").asInt(0),
                n.path("routing_score").asDouble(-1), n.path("gain").asLong(0), n.path("candidate_js").asDouble(-1),
                n.path("corpus_js").asDouble(-1), n.get("accepted").asBoolean(), n.get("reason").asText(), ids,
                n.path("llm_call_id").asText(null));
    }

    /** Every complete row of a log (a torn last line is ignored); duplicate keys are an error naming the file. */
    public static List<SyntheticRow> readLog(Path file) {
        List<SyntheticRow> rows = new ArrayList<>();
        java.util.Set<String> keys = new java.util.HashSet<>();
        int line = 0;
        for (JsonNode n : Jsonl.readLog(file)) {
            SyntheticRow r = fromJson(n, file, ++line);
            if (!keys.add(r.key())) throw new RoutecalException(file + " row " + line + ": duplicate key " + r.key());
            rows.add(r);
        }
        return rows;
    }
}
