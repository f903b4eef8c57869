package org.routecal.corpus;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.tokenize.ChatTemplate;
import org.routecal.tokenize.Encoding;
import org.routecal.tokenize.Tokenizer;

/**
 * Loads a calibration corpus: read rows → build each row's text → keep the requested domains → de-duplicate →
 * stratified sampling → tokenize and cut to the token limit.
 *
 * <p>Row schema: {@code text} (used as-is) or {@code messages} (a list of {role, content, ...}; it wins when both are
 * present), optional {@code domain} (default "default") and {@code sample_id} (default: the row's 0-based index).
 * Messages are normalised as the reference pipeline does — missing role/content become "", {@code tool_call_id} is
 * made a string — except that thinking text is kept under {@code reasoning_content} (also accepted as
 * {@code reasoning}), the key chat templates read; the reference renames it to {@code reasoning}, which the Qwen3
 * template ignores. With the chat template on, messages are rendered with {@code add_generation_prompt=False} and
 * the given {@code enable_thinking}; off, turns become {@code role:\n[reasoning\n\n]content} paragraphs joined by a
 * blank line (the reference's fallback).
 */
public final class Corpus {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What {@link #read} kept and dropped, for the stage summary and the manifest. */
    public record Loaded(List<Sample> samples, int rows, int duplicates, int cut, int droppedNoBoundary,
                         Map<String, Integer> samplesPerDomain) {
        @Override
        public String toString() {
            int tokens = samples.stream().mapToInt(s -> s.encoding().size()).sum();
            return samples.size() + " samples (" + tokens + " tokens) from " + rows + " rows; per domain " + samplesPerDomain
                + "; " + duplicates + " duplicates dropped, " + cut + " cut at a boundary, " + droppedNoBoundary
                + " dropped (no boundary under the token limit)";
        }
    }

    private Corpus() { }

    public static List<Sample> load(CorpusOptions options, Tokenizer tokenizer) {
        return read(options, tokenizer).samples();
    }

    public static Loaded read(CorpusOptions options, Tokenizer tokenizer) {
        List<CorpusReader.Row> rows = CorpusReader.read(options.corpus());
        if (rows.isEmpty()) throw new RoutecalException("corpus " + options.corpus() + " is empty (no rows)");

        List<Candidate> candidates = new ArrayList<>();
        Map<String, String> idAt = new LinkedHashMap<>(); // sample_id → row location: later stages key on the id
        for (CorpusReader.Row row : rows) {
            Candidate c = candidate(row, options, tokenizer);
            String first = idAt.putIfAbsent(c.sampleId, row.location());
            if (first != null) {
                throw new RoutecalException(row.location() + ": sample_id '" + c.sampleId + "' repeats the one at " + first
                    + " (a row without sample_id gets its 0-based row index)");
            }
            candidates.add(c);
        }

        Set<String> present = new TreeSet<>();
        candidates.forEach(c -> present.add(c.domain));
        if (!options.domains().isEmpty()) {
            for (String d : options.domains()) {
                if (!present.contains(d)) {
                    throw new RoutecalException("--domains: no domain '" + d + "' in " + options.corpus() + " (domains present: "
                        + String.join(", ", present) + ")");
                }
            }
            Set<String> keep = new HashSet<>(options.domains());
            candidates.removeIf(c -> !keep.contains(c.domain));
        }

        int duplicates = 0;
        if (options.dedup()) {
            Set<String> seen = new HashSet<>();
            List<Candidate> unique = new ArrayList<>();
            for (Candidate c : candidates) {
                if (seen.add(dedupKey(c.text))) unique.add(c);
                else duplicates++;
            }
            candidates = unique;
        }

        List<String> domainOfRow = new ArrayList<>();
        candidates.forEach(c -> domainOfRow.add(c.domain));
        List<Integer> kept = DomainSampler.sample(domainOfRow, options.samplesPerDomain(), options.maxSamples(), options.seed());

        SampleCutter cutter = new SampleCutter(tokenizer, options.maxTokensPerSample());
        List<Sample> samples = new ArrayList<>();
        Map<String, Integer> perDomain = new TreeMap<>();
        int cut = 0;
        int dropped = 0;
        for (int k : kept) {
            Candidate c = candidates.get(k);
            Encoding enc = tokenizer.encode(c.text);
            SampleCutter.Cut r = cutter.cut(c.text, enc);
            if (r == null) { dropped++; continue; }
            if (r.encoding().size() != enc.size()) cut++;
            samples.add(new Sample(c.sampleId, c.domain, r.text(), r.encoding()));
            perDomain.merge(c.domain, 1, Integer::sum);
        }
        if (samples.isEmpty()) {
            throw new RoutecalException("corpus " + options.corpus() + ": no samples left (" + rows.size() + " rows, " + duplicates
                + " duplicates, " + dropped + " with no boundary under --max-tokens-per-sample " + options.maxTokensPerSample() + ")");
        }
        return new Loaded(samples, rows.size(), duplicates, cut, dropped, perDomain);
    }

    private record Candidate(String sampleId, String domain, String text) { }

    private static Candidate candidate(CorpusReader.Row row, CorpusOptions options, Tokenizer tokenizer) {
        JsonNode n = row.node();
        String id = scalar(n.get("sample_id"), row, "sample_id");
        String domain = scalar(n.get("domain"), row, "domain");
        JsonNode messages = n.get("messages");
        JsonNode text = n.get("text");
        String body;
        if (messages != null && !messages.isNull()) {
            List<Map<String, Object>> turns = messages(messages, row);
            body = options.chatTemplate() ? render(turns, row, options, tokenizer) : plain(turns);
        } else if (text != null && !text.isNull()) {
            if (!text.isTextual()) throw new RoutecalException(row.location() + ": field 'text' must be a string");
            body = text.asText();
        } else {
            throw new RoutecalException(row.location() + ": row has neither 'text' nor 'messages'");
        }
        return new Candidate(id != null ? id : Integer.toString(row.index()), domain != null ? domain : "default", body);
    }

    private static String scalar(JsonNode v, CorpusReader.Row row, String field) {
        if (v == null || v.isNull()) return null;
        if (!v.isValueNode()) throw new RoutecalException(row.location() + ": field '" + field + "' must be a string or number");
        return v.asText();
    }

    private static List<Map<String, Object>> messages(JsonNode messages, CorpusReader.Row row) {
        if (!messages.isArray()) throw new RoutecalException(row.location() + ": field 'messages' must be a list of {role, content}");
        if (messages.isEmpty()) throw new RoutecalException(row.location() + ": field 'messages' is empty");
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            if (!m.isObject()) throw new RoutecalException(row.location() + ": messages[" + i + "] is not an object");
            @SuppressWarnings("unchecked")
            Map<String, Object> map = JSON.convertValue(m, LinkedHashMap.class);
            map.putIfAbsent("role", "");
            if (map.get("role") == null) map.put("role", "");
            if (map.get("content") == null) map.put("content", "");
            if (!(map.get("content") instanceof String)) {
                throw new RoutecalException(row.location() + ": messages[" + i + "].content must be a string");
            }
            Object reasoning = map.remove("reasoning");
            if (reasoning != null && map.get("reasoning_content") == null) map.put("reasoning_content", reasoning);
            if (map.get("tool_call_id") != null) map.put("tool_call_id", String.valueOf(map.get("tool_call_id")));
            out.add(map);
        }
        return out;
    }

    private static String render(List<Map<String, Object>> turns, CorpusReader.Row row, CorpusOptions options, Tokenizer tokenizer) {
        ChatTemplate template = tokenizer.chatTemplate().orElseThrow(() -> new RoutecalException(row.location()
            + ": row has 'messages' but the tokenizer files in " + tokenizer.directory()
            + " have no chat template (tokenizer_config.json chat_template or chat_template.jinja); use --chat-template off"));
        Map<String, Object> extra = new LinkedHashMap<>();
        if (options.enableThinking() != null) extra.put("enable_thinking", options.enableThinking());
        try {
            return template.renderMaps(turns, false, extra);
        } catch (RoutecalException e) {
            throw new RoutecalException(row.location() + ": " + e.getMessage(), e);
        }
    }

    private static String plain(List<Map<String, Object>> turns) {
        StringBuilder sb = new StringBuilder();
        for (Map<String, Object> t : turns) {
            if (sb.length() > 0) sb.append("\n\n");
            sb.append(t.get("role")).append(":\n");
            Object reasoning = t.get("reasoning_content");
            if (reasoning instanceof String r && !r.isEmpty()) sb.append(r).append("\n\n");
            sb.append(t.get("content"));
        }
        return sb.toString();
    }

    /** Duplicate key: SHA-256 of the text in Unicode NFC with whitespace runs collapsed and ends trimmed. */
    static String dedupKey(String text) {
        String norm = Normalizer.normalize(text, Normalizer.Form.NFC).strip().replaceAll("\\s+", " ");
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(norm.getBytes(StandardCharsets.UTF_8));
            StringBuilder sb = new StringBuilder();
            for (byte b : h) sb.append(String.format("%02x", b));
            return sb.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
