package org.routecal.corpus;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Manifest;
import org.routecal.tokenize.ChatMessage;
import org.routecal.tokenize.TextCodec;

/**
 * The one corpus reader of routecal: every stage that reads text (route, quantize, evaluate, select, refine,
 * synthesize) reads its corpus, and select and refine their pool, through {@link #read}. Read rows → build each row's
 * text ({@link SampleMaker}) → keep the requested domains → de-duplicate → stratified sampling → tokenize and cut to
 * the token limit.
 *
 * <p>Row schema: {@code messages} (a list of {role, content, ...}) or {@code text} (used as-is); {@code messages} wins
 * when both are present. Optional {@code domain} (default "default") and {@code sample_id} (a string or a number;
 * default: the row's 0-based index). Messages follow {@link ChatMessage#fromJson}: the thinking text is kept under
 * {@code reasoning_content} (also accepted as {@code reasoning}, the reference's name, which the Qwen3 template would
 * ignore). A turn whose role no chat template renders is an error naming it (templates skip such turns silently),
 * unless {@link CorpusOptions#dropUnknownRoles} drops and counts it. A row without text is an error naming its file and
 * line: it would otherwise abort a later stage with no way to find it. Over-long samples are cut, never dropped.
 */
public final class Corpus {
    /** What {@link #read} kept, cut and dropped, for the stage summary and the manifest. */
    public record Loaded(List<Sample> samples, int rows, int duplicates, int cutAtBoundary, int cutAtLimit,
                         int unknownRoleTurnsDropped, Map<String, Integer> samplesPerDomain) {
        public int tokens() { return samples.stream().mapToInt(Sample::tokens).sum(); }

        /** Samples cut to the token limit, at a boundary or at the limit. */
        public int cut() { return cutAtBoundary + cutAtLimit; }

        @Override
        public String toString() {
            return samples.size() + " samples (" + tokens() + " tokens) from " + rows + " rows; per domain " + samplesPerDomain
                + "; " + duplicates + " duplicates dropped; " + cut() + " cut to --max-tokens-per-sample (" + cutAtBoundary
                + " at a turn or sentence boundary, " + cutAtLimit + " at the limit: no boundary before it)"
                + (unknownRoleTurnsDropped > 0 ? "; " + unknownRoleTurnsDropped + " turns with an unknown role dropped" : "");
        }

        /** The counts as manifest results. */
        public Map<String, Object> summary() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("corpus_rows", rows);
            m.put("corpus_samples", samples.size());
            m.put("corpus_tokens", tokens());
            m.put("corpus_duplicates_dropped", duplicates);
            m.put("corpus_cut_at_boundary", cutAtBoundary);
            m.put("corpus_cut_at_limit", cutAtLimit);
            m.put("corpus_unknown_role_turns_dropped", unknownRoleTurnsDropped);
            m.put("corpus_samples_per_domain", samplesPerDomain);
            return m;
        }
    }

    private Corpus() { }

    /**
     * What a stage records about its corpus: {@code "corpus"} → the file (a Path: hashed in the manifest and kept apart
     * from {@code --out}), {@code "corpus_options"} → the options (parameters), {@code "corpus_loaded"} →
     * {@link Loaded#summary()} (results); see {@link Manifest.Builder#add}.
     */
    public static Map<String, Object> manifestInputs(CorpusOptions options, Loaded loaded) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("corpus", options.corpus());
        m.put("corpus_options", options.parameters());
        m.put("corpus_loaded", new Manifest.Results(loaded.summary()));
        return m;
    }

    public static List<Sample> load(CorpusOptions options, TextCodec codec) {
        return read(options, codec).samples();
    }

    public static Loaded read(CorpusOptions options, TextCodec codec) {
        List<CorpusReader.Row> rows = CorpusReader.read(options.corpus());
        if (rows.isEmpty()) throw new RoutecalException("corpus " + options.corpus() + " is empty (no rows)");
        SampleMaker maker = SampleMaker.of(codec, options);

        List<Candidate> candidates = new ArrayList<>();
        Map<String, String> idAt = new LinkedHashMap<>(); // sample_id → row location: later stages key on the id
        int[] unknownRoles = {0};
        for (CorpusReader.Row row : rows) {
            Candidate c = candidate(row, options, maker, unknownRoles);
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
                if (seen.add(DedupKey.of(c.text))) unique.add(c);
                else duplicates++;
            }
            candidates = unique;
        }

        List<String> domainOfRow = new ArrayList<>();
        candidates.forEach(c -> domainOfRow.add(c.domain));
        List<Integer> kept = DomainSampler.sample(domainOfRow, options.samplesPerDomain(), options.maxSamples(), options.seed());

        List<Sample> samples = new ArrayList<>();
        Map<String, Integer> perDomain = new TreeMap<>();
        int atBoundary = 0;
        int atLimit = 0;
        for (int k : kept) {
            Candidate c = candidates.get(k);
            SampleMaker.Made made = maker.make(c.sampleId, c.domain, c.text, c.location);
            if (made.cutAtBoundary()) atBoundary++;
            if (made.cutAtLimit()) atLimit++;
            samples.add(made.sample());
            perDomain.merge(c.domain, 1, Integer::sum);
        }
        if (samples.isEmpty()) {
            throw new RoutecalException("corpus " + options.corpus() + ": no samples left (" + rows.size() + " rows, " + duplicates
                + " duplicates)");
        }
        return new Loaded(samples, rows.size(), duplicates, atBoundary, atLimit, unknownRoles[0], perDomain);
    }

    private record Candidate(String sampleId, String domain, String text, String location) { }

    private static Candidate candidate(CorpusReader.Row row, CorpusOptions options, SampleMaker maker, int[] unknownRoles) {
        ObjectNode n = row.node();
        String id = scalar(n.get("sample_id"), row, "sample_id");
        String domain = scalar(n.get("domain"), row, "domain");
        JsonNode messages = n.get("messages");
        JsonNode text = n.get("text");
        String body;
        if (messages != null && !messages.isNull()) {
            List<ChatMessage> turns = messages(messages, row, options.dropUnknownRoles(), unknownRoles);
            try {
                body = maker.render(turns);
            } catch (RoutecalException e) {
                throw new RoutecalException(row.location() + ": " + e.getMessage()
                    + (e.getMessage().contains("no chat template") ? "; use --chat-template off" : ""), e);
            }
        } else if (text != null && !text.isNull()) {
            if (!text.isTextual()) throw new RoutecalException(row.location() + ": field 'text' must be a string");
            body = text.asText();
            if (body.isBlank()) throw new RoutecalException(row.location() + ": empty 'text'" + idNote(id) + "; remove the row or give it text");
        } else {
            throw new RoutecalException(row.location() + ": row has neither 'text' nor 'messages'");
        }
        return new Candidate(id != null ? id : Integer.toString(row.index()), domain != null ? domain : "default", body, row.location());
    }

    private static String idNote(String id) { return id == null ? "" : " (sample_id '" + id + "')"; }

    private static String scalar(JsonNode v, CorpusReader.Row row, String field) {
        if (v == null || v.isNull()) return null;
        if (!v.isValueNode()) throw new RoutecalException(row.location() + ": field '" + field + "' must be a string or number");
        return v.asText();
    }

    private static List<ChatMessage> messages(JsonNode messages, CorpusReader.Row row, boolean dropUnknown, int[] unknownRoles) {
        if (!messages.isArray()) throw new RoutecalException(row.location() + ": field 'messages' must be a list of {role, content}");
        if (messages.isEmpty()) throw new RoutecalException(row.location() + ": field 'messages' is empty");
        List<ChatMessage> out = new ArrayList<>();
        boolean anyText = false;
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = ChatMessage.fromJson(messages.get(i), row.location() + ": messages[" + i + "]");
            if (!m.knownRole()) {
                if (dropUnknown) {
                    unknownRoles[0]++;
                    continue;
                }
                throw new RoutecalException(row.location() + ": messages[" + i + "] has role '" + m.role() + "', which chat templates do not render"
                    + " (known: system, user, assistant, tool); fix the row or pass --drop-unknown-roles to drop such turns");
            }
            anyText |= !m.content().isBlank() || (m.reasoningContent() != null && !m.reasoningContent().isBlank());
            out.add(m);
        }
        if (out.isEmpty()) throw new RoutecalException(row.location() + ": no turn left after dropping unknown roles");
        if (!anyText) throw new RoutecalException(row.location() + ": every turn in 'messages' is empty; remove the row or give it text");
        return out;
    }
}
