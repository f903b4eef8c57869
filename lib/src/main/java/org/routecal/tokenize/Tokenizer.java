package org.routecal.tokenize;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.huggingface.tokenizers.jni.CharSpan;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

/**
 * A Hugging Face tokenizer loaded offline from a model directory: {@code tokenizer.json} through DJL's binding of the
 * Rust {@code tokenizers} library (the same code transformers' fast tokenizers run), plus {@code tokenizer_config.json}
 * (special tokens, chat template) and {@code chat_template.jinja} when present.
 *
 * <p>{@link #encode} equals {@code tokenizer(text, add_special_tokens=False)}: special tokens written in the text
 * (e.g. {@code <|im_end|>} in a rendered chat) become their ids, nothing is added, nothing is truncated.
 *
 * <p>Stop ids: {@code eos_token_id} of {@code config.json} and {@code generation_config.json} (a number or a list), plus
 * the end-of-turn tokens the vocabulary has ({@code <|im_end|>}, {@code <|eot_id|>}, {@code <|end|>},
 * {@code <|endoftext|>}).
 */
public final class Tokenizer implements TextCodec {
    private static final ObjectMapper JSON = Json.MAPPER;
    private static final String[] SPECIAL_TOKEN_NAMES = {
        "bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};

    private final Path dir;
    private final HuggingFaceTokenizer hf;
    private final Vocabulary vocab;
    private final ChatTemplate chatTemplate; // null when the tokenizer files carry none

    private static final List<String> END_OF_TURN = List.of("<|im_end|>", "<|eot_id|>", "<|end|>", "<|endoftext|>");

    private Tokenizer(Path dir, HuggingFaceTokenizer hf, Vocabulary vocab, ChatTemplate chatTemplate) {
        this.dir = dir;
        this.hf = hf;
        this.vocab = vocab;
        this.chatTemplate = chatTemplate;
    }

    /**
     * Loads {@code dir/tokenizer.json} (required) and, when present, {@code dir/tokenizer_config.json} and
     * {@code dir/chat_template.jinja} (which wins over the config's {@code chat_template}, as in transformers).
     */
    public static Tokenizer load(Path dir) {
        Path json = dir.resolve("tokenizer.json");
        if (!Files.isDirectory(dir)) throw new RoutecalException("tokenizer directory not found: " + dir);
        if (!Files.isRegularFile(json)) {
            throw new RoutecalException("tokenizer file missing: " + json + " (the model directory needs the Hugging Face tokenizer.json)");
        }
        // The vocabulary table and DJL each parse the whole tokenizer.json: do both at once
        CompletableFuture<Vocabulary> vocab = CompletableFuture.supplyAsync(() -> Vocabulary.read(json));
        JsonNode config = readConfig(dir.resolve("tokenizer_config.json"));
        ChatTemplate template = readChatTemplate(dir, config);
        DjlSetup.configure();
        Map<String, String> options = new HashMap<>();
        options.put("addSpecialTokens", "false");
        options.put("truncation", "false");
        options.put("padding", "false");
        HuggingFaceTokenizer hf;
        try {
            hf = HuggingFaceTokenizer.newInstance(json, options);
        } catch (IOException | RuntimeException e) {
            vocab.cancel(false);
            throw new RoutecalException("cannot load tokenizer " + json + ": " + e.getMessage(), e);
        }
        try {
            return new Tokenizer(dir, hf, vocab.join(), template);
        } catch (CompletionException e) {
            hf.close();
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private static JsonNode readConfig(Path file) {
        if (!Files.isRegularFile(file)) return JSON.createObjectNode();
        try {
            return JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new RoutecalException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    private static ChatTemplate readChatTemplate(Path dir, JsonNode config) {
        Map<String, String> special = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKEN_NAMES) {
            JsonNode t = config.get(name);
            if (t != null && t.isTextual()) special.put(name, t.asText());
            else if (t != null && t.has("content")) special.put(name, t.get("content").asText());
        }
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) {
            try {
                return new ChatTemplate(Files.readString(jinja, StandardCharsets.UTF_8), jinja.toString(), special);
            } catch (IOException e) {
                throw new RoutecalException("cannot read " + jinja + ": " + e.getMessage(), e);
            }
        }
        JsonNode t = config.get("chat_template");
        String origin = dir.resolve("tokenizer_config.json") + " (chat_template)";
        if (t != null && t.isTextual()) return new ChatTemplate(t.asText(), origin, special);
        if (t != null && t.isArray()) { // [{name, template}, ...]: transformers uses the one named "default"
            for (JsonNode named : t) {
                if ("default".equals(named.path("name").asText())) {
                    return new ChatTemplate(named.path("template").asText(), origin + "[default]", special);
                }
            }
        }
        return null;
    }

    /** The model directory the tokenizer was loaded from. */
    public Path directory() { return dir; }

    /** As HF {@code tokenizer(text, add_special_tokens=False)}, with spans as documented on {@link Encoding}. */
    public Encoding encode(String text) {
        ai.djl.huggingface.tokenizers.Encoding e = hf.encode(text, false, false);
        long[] raw = e.getIds();
        CharSpan[] spans = e.getCharTokenSpans();
        int n = raw.length;
        int[] ids = new int[n];
        int[] start = new int[n];
        int[] end = new int[n];
        int[] utf16 = codePointToUtf16(text); // null when the text has no surrogate pairs
        int prevEnd = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = Math.toIntExact(raw[i]);
            int s = utf16 == null ? spans[i].getStart() : utf16[spans[i].getStart()];
            int t = utf16 == null ? spans[i].getEnd() : utf16[spans[i].getEnd()];
            start[i] = Math.max(s, prevEnd);
            end[i] = Math.max(t, start[i]);
            prevEnd = end[i];
        }
        return new Encoding(ids, start, end);
    }

    /** Maps code-point index → UTF-16 index (length codePoints+1), or null when both are the same. */
    private static int[] codePointToUtf16(String text) {
        int cps = text.codePointCount(0, text.length());
        if (cps == text.length()) return null;
        int[] map = new int[cps + 1];
        int u = 0;
        for (int c = 0; c < cps; c++) {
            map[c] = u;
            u += Character.charCount(text.codePointAt(u));
        }
        map[cps] = u;
        return map;
    }

    /** As HF {@code tokenizer.decode(ids)} (special tokens kept). */
    public String decode(int[] ids) {
        return hf.decode(Arrays.stream(ids).asLongStream().toArray(), false);
    }

    /** The raw vocabulary string of a token (byte-level form, e.g. {@code Ġhello}); null for an unknown id. */
    public String tokenString(int id) { return vocab.token(id); }

    /** Number of tokens the tokenizer knows, as HF {@code len(tokenizer)}; the model's embedding may be larger. */
    public int vocabSize() { return vocab.size(); }

    public OptionalInt tokenId(String token) { return vocab.id(token); }

    /** Whether the id is an added token marked special (e.g. {@code <|im_end|>}). */
    public boolean isSpecial(int id) { return vocab.isSpecial(id); }

    public Optional<ChatTemplate> chatTemplate() { return Optional.ofNullable(chatTemplate); }

    @Override
    public String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra) {
        ChatTemplate t = chatTemplate().orElseThrow(() -> new RoutecalException("the tokenizer files in " + dir
                + " have no chat template (tokenizer_config.json chat_template or chat_template.jinja)"));
        return t.render(messages, addGenerationPrompt, extra);
    }

    @Override
    public Set<Integer> stopIds() {
        Set<Integer> ids = new TreeSet<>();
        for (String f : List.of("config.json", "generation_config.json")) {
            JsonNode eos = readConfig(dir.resolve(f)).path("eos_token_id");
            if (eos.isInt()) ids.add(eos.asInt());
            else if (eos.isArray()) eos.forEach(e -> ids.add(e.asInt()));
        }
        for (String t : END_OF_TURN) tokenId(t).ifPresent(ids::add);
        return Set.copyOf(ids);
    }

    @Override
    public void close() { hf.close(); }
}
