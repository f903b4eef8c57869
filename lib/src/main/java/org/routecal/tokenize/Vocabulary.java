package org.routecal.tokenize;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

/**
 * The id ↔ token-string table of a {@code tokenizer.json}: {@code model.vocab} (a token → id object for BPE and
 * WordPiece, a {@code [token, score]} array for Unigram) plus {@code added_tokens}. DJL does not expose it, so we
 * stream the file and skip everything else (the merges list is most of a BPE file).
 */
final class Vocabulary {
    private final String[] tokens; // [maxId + 1], null where no token has that id
    private final Map<String, Integer> ids;
    private final BitSet special;
    private final int size;

    private Vocabulary(String[] tokens, Map<String, Integer> ids, BitSet special) {
        this.tokens = tokens;
        this.ids = ids;
        this.special = special;
        this.size = (int) Arrays.stream(tokens).filter(t -> t != null).count();
    }

    static Vocabulary read(Path file) {
        Map<String, Integer> ids = new HashMap<>();
        BitSet special = new BitSet();
        // sub-trees are read mid-stream, so the shared mapper's "nothing after the value" check must not apply here
        ObjectReader subtrees = Json.MAPPER.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        try (JsonParser p = subtrees.createParser(file.toFile())) {
            p.setCodec(subtrees);
            if (p.nextToken() != JsonToken.START_OBJECT) throw new IOException("not a JSON object");
            boolean addedSeen = false;
            boolean vocabSeen = false;
            // HF writes added_tokens before model, and model.vocab before model.merges (half the file): stop early
            while (!(addedSeen && vocabSeen) && p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                if (field.equals("added_tokens")) {
                    addedSeen = true;
                    for (JsonNode t : (JsonNode) p.readValueAsTree()) {
                        int id = t.get("id").asInt();
                        ids.put(t.get("content").asText(), id);
                        if (t.path("special").asBoolean(false)) special.set(id);
                    }
                } else if (field.equals("model") && p.currentToken() == JsonToken.START_OBJECT) {
                    vocabSeen = readModel(p, ids, addedSeen); // without added_tokens yet, read on to find them
                } else {
                    p.skipChildren();
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new RoutecalException("cannot read the vocabulary of " + file + ": " + e.getMessage(), e);
        }
        if (ids.isEmpty()) throw new RoutecalException("no vocabulary in " + file + " (expected model.vocab)");
        int max = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1);
        String[] tokens = new String[max + 1];
        ids.forEach((t, id) -> tokens[id] = t);
        return new Vocabulary(tokens, ids, special);
    }

    /**
     * Reads model.vocab. With {@code stopAfterVocab} it returns true right after the vocab, leaving the parser inside
     * the model object (the caller then stops reading); otherwise it reads the model object to its end.
     */
    private static boolean readModel(JsonParser p, Map<String, Integer> ids, boolean stopAfterVocab) throws IOException {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken t = p.nextToken();
            if (!field.equals("vocab")) {
                p.skipChildren();
                continue;
            }
            readVocab(p, t, ids);
            if (stopAfterVocab) return true;
        }
        return false;
    }

    private static void readVocab(JsonParser p, JsonToken t, Map<String, Integer> ids) throws IOException {
        if (t == JsonToken.START_OBJECT) { // BPE, WordPiece: {token: id}
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String token = p.currentName();
                p.nextToken();
                ids.putIfAbsent(token, p.getIntValue());
            }
        } else if (t == JsonToken.START_ARRAY) { // Unigram: [[piece, score], ...], id = position
            int id = 0;
            while (p.nextToken() == JsonToken.START_ARRAY) {
                p.nextToken();
                ids.putIfAbsent(p.getText(), id++);
                while (p.nextToken() != JsonToken.END_ARRAY) p.skipChildren();
            }
        } else {
            p.skipChildren();
        }
    }

    String token(int id) { return id >= 0 && id < tokens.length ? tokens[id] : null; }

    OptionalInt id(String token) {
        Integer id = ids.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    boolean isSpecial(int id) { return special.get(id); }

    int size() { return size; }
}
