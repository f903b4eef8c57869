package org.routecal.demo;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Trains the demo model's byte-level BPE tokenizer on the demo texts and writes it as HF {@code tokenizer.json} plus a
 * Qwen3-style {@code tokenizer_config.json}. The layout copies Qwen2/Qwen3's: NFC normalizer, the Qwen2 split regex then
 * ByteLevel (no prefix space), BPE without unknown token, ByteLevel decoder. Ids 0–255 are the bytes in GPT-2 order,
 * then one id per merge, then the special tokens. Greek, Cyrillic and CJK are always encodable (bytes); merges give
 * them whole-character tokens where the training text has them.
 *
 * <p>Training is the classic greedy algorithm: repeatedly merge the most frequent adjacent pair (ties: smaller ids
 * first), counting pairs incrementally so a few thousand merges over ~1.7 MB take well under a second.
 */
public final class DemoTokenizerBuilder {
    private DemoTokenizerBuilder() {}

    /** Qwen2's pre-tokenizer split pattern (digits one by one, letters with one leading non-letter, …). */
    static final String SPLIT_REGEX = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    private static final Pattern SPLIT = Pattern.compile(SPLIT_REGEX, Pattern.UNICODE_CHARACTER_CLASS);

    /** Qwen3's special tokens (the subset the demo needs); {@code <think>} pairs are not "special" in Qwen3 either. */
    static final List<String> SPECIALS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>");
    private static final List<Boolean> SPECIAL_FLAGS = List.of(true, true, true, false, false);

    /**
     * The trained vocabulary: {@code tokens.get(id)} is the byte-level string of a BPE token, or the content of a special
     * token for ids ≥ {@code firstSpecialId}. {@code merges} are "left right" pairs in rank order.
     */
    public record Vocabulary(List<String> tokens, List<String> merges, int firstSpecialId) {
        public int size() { return tokens.size(); }
        public boolean isSpecial(int id) { return id >= firstSpecialId; }
        public int id(String special) { return firstSpecialId + SPECIALS.indexOf(special); }
        /** The UTF-8 bytes a (non-special) token stands for; may be part of a character. */
        public byte[] bytes(int id) {
            return isSpecial(id) ? tokens.get(id).getBytes(StandardCharsets.UTF_8) : ByteLevel.decode(tokens.get(id));
        }
    }

    /** Trains on {@code texts} until {@code vocabSize} tokens (specials included) or no pair occurs twice. */
    public static Vocabulary train(List<String> texts, int vocabSize) {
        // Pre-tokenize: distinct byte-level words with counts, in sorted order so ids never depend on hashing.
        TreeMap<String, Integer> wordCounts = new TreeMap<>();
        for (String text : texts) {
            Matcher m = SPLIT.matcher(Normalizer.normalize(text, Normalizer.Form.NFC));
            while (m.find()) wordCounts.merge(ByteLevel.encode(m.group().getBytes(StandardCharsets.UTF_8)), 1, Integer::sum);
        }
        List<String> tokens = new ArrayList<>();
        Map<String, Integer> tokenIds = new HashMap<>();
        for (int i = 0; i < 256; i++) {
            String t = String.valueOf(ByteLevel.charOf(ByteLevel.ORDER[i]));
            tokenIds.put(t, tokens.size());
            tokens.add(t);
        }
        int[][] words = new int[wordCounts.size()][];
        long[] freq = new long[words.length];
        int w = 0;
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            String s = e.getKey();
            words[w] = new int[s.length()];
            for (int i = 0; i < s.length(); i++) words[w][i] = tokenIds.get(String.valueOf(s.charAt(i)));
            freq[w++] = e.getValue();
        }
        Map<Long, Long> pairCount = new HashMap<>();
        Map<Long, List<Integer>> pairWords = new HashMap<>(); // may hold stale entries; checked on use
        for (w = 0; w < words.length; w++) addPairs(words[w], w, freq[w], pairCount, pairWords, null);
        // Max-heap on (count desc, pair key asc) with lazy deletion: an entry is live if its count is still current.
        PriorityQueue<long[]> heap = new PriorityQueue<>((x, y) -> x[0] != y[0] ? Long.compare(y[0], x[0]) : Long.compare(x[1], y[1]));
        pairCount.forEach((k, c) -> heap.add(new long[] {c, k}));
        List<String> merges = new ArrayList<>();
        int mergeTarget = vocabSize - SPECIALS.size();
        while (tokens.size() < mergeTarget && !heap.isEmpty()) {
            long[] top = heap.poll();
            Long current = pairCount.get(top[1]);
            if (current == null || current != top[0]) continue;
            if (current < 2) break;
            int a = (int) (top[1] >>> 32), b = (int) top[1];
            String merged = tokens.get(a) + tokens.get(b);
            // A string can arise from two different pairs; HF's trainer then reuses the existing id, and so do we.
            Integer id = tokenIds.get(merged);
            if (id == null) {
                id = tokens.size();
                tokens.add(merged);
                tokenIds.put(merged, id);
            }
            merges.add(tokens.get(a) + " " + tokens.get(b));
            Map<Long, Boolean> touched = new LinkedHashMap<>();
            int[] affected = pairWords.remove(top[1]).stream().mapToInt(Integer::intValue).distinct().sorted().toArray();
            for (int aw : affected) {
                if (!contains(words[aw], a, b)) continue;
                removePairs(words[aw], freq[aw], pairCount, touched);
                words[aw] = merge(words[aw], a, b, id);
                addPairs(words[aw], aw, freq[aw], pairCount, pairWords, touched);
            }
            pairCount.remove(top[1]);
            for (Long k : touched.keySet()) {
                Long c = pairCount.get(k);
                if (c != null && c > 0) heap.add(new long[] {c, k});
            }
        }
        int firstSpecial = tokens.size();
        tokens.addAll(SPECIALS);
        return new Vocabulary(List.copyOf(tokens), List.copyOf(merges), firstSpecial);
    }

    private static long key(int a, int b) {
        return ((long) a << 32) | (b & 0xFFFFFFFFL);
    }

    private static void addPairs(int[] word, int w, long f, Map<Long, Long> counts, Map<Long, List<Integer>> where,
                                 Map<Long, Boolean> touched) {
        for (int i = 0; i + 1 < word.length; i++) {
            long k = key(word[i], word[i + 1]);
            counts.merge(k, f, Long::sum);
            where.computeIfAbsent(k, x -> new ArrayList<>()).add(w);
            if (touched != null) touched.put(k, true);
        }
    }

    private static void removePairs(int[] word, long f, Map<Long, Long> counts, Map<Long, Boolean> touched) {
        for (int i = 0; i + 1 < word.length; i++) {
            long k = key(word[i], word[i + 1]);
            long c = counts.get(k) - f;
            if (c == 0) counts.remove(k); else counts.put(k, c);
            touched.put(k, true);
        }
    }

    private static boolean contains(int[] word, int a, int b) {
        for (int i = 0; i + 1 < word.length; i++) if (word[i] == a && word[i + 1] == b) return true;
        return false;
    }

    /** Replaces every non-overlapping (a, b), left to right, by {@code id}. */
    private static int[] merge(int[] word, int a, int b, int id) {
        int[] out = new int[word.length];
        int n = 0;
        for (int i = 0; i < word.length; i++) {
            if (i + 1 < word.length && word[i] == a && word[i + 1] == b) {
                out[n++] = id;
                i++;
            } else {
                out[n++] = word[i];
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** HF {@code tokenizer.json} for {@code vocab}. */
    public static byte[] tokenizerJson(Vocabulary vocab) {
        Map<String, Object> byteLevel = new LinkedHashMap<>();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", false);
        byteLevel.put("use_regex", false);
        Map<String, Object> split = new LinkedHashMap<>();
        split.put("type", "Split");
        split.put("pattern", Map.of("Regex", SPLIT_REGEX));
        split.put("behavior", "Isolated");
        split.put("invert", false);
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        Map<String, Integer> vocabMap = new LinkedHashMap<>();
        for (int i = 0; i < vocab.firstSpecialId(); i++) vocabMap.putIfAbsent(vocab.tokens().get(i), i);
        model.put("vocab", vocabMap);
        model.put("merges", vocab.merges());
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", "1.0");
        root.put("truncation", null);
        root.put("padding", null);
        root.put("added_tokens", addedTokens(vocab, true));
        root.put("normalizer", Map.of("type", "NFC"));
        Map<String, Object> preTokenizer = new LinkedHashMap<>(); // LinkedHashMap everywhere: Map.of order varies per run
        preTokenizer.put("type", "Sequence");
        preTokenizer.put("pretokenizers", List.of(split, byteLevel));
        root.put("pre_tokenizer", preTokenizer);
        root.put("post_processor", byteLevel);
        root.put("decoder", byteLevel);
        root.put("model", model);
        return DemoJson.bytes(root);
    }

    private static List<Map<String, Object>> addedTokens(Vocabulary vocab, boolean withIds) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < SPECIALS.size(); i++) {
            Map<String, Object> t = new LinkedHashMap<>();
            if (withIds) t.put("id", vocab.firstSpecialId() + i);
            t.put("content", SPECIALS.get(i));
            t.put("single_word", false);
            t.put("lstrip", false);
            t.put("rstrip", false);
            t.put("normalized", false);
            t.put("special", SPECIAL_FLAGS.get(i));
            out.add(t);
        }
        return out;
    }

    /** Qwen3-style {@code tokenizer_config.json} with the demo chat template. */
    public static byte[] tokenizerConfigJson(Vocabulary vocab, int maxLength) {
        Map<String, Object> decoder = new LinkedHashMap<>();
        List<Map<String, Object>> added = addedTokens(vocab, false);
        for (int i = 0; i < added.size(); i++) decoder.put(Integer.toString(vocab.firstSpecialId() + i), added.get(i));
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("add_bos_token", false);
        root.put("add_prefix_space", false);
        root.put("added_tokens_decoder", decoder);
        root.put("additional_special_tokens", List.of("<|im_start|>", "<|im_end|>"));
        root.put("bos_token", null);
        root.put("chat_template", DemoChatTemplate.TEMPLATE);
        root.put("clean_up_tokenization_spaces", false);
        root.put("eos_token", "<|im_end|>");
        root.put("errors", "replace");
        root.put("model_max_length", maxLength);
        root.put("pad_token", "<|endoftext|>");
        root.put("split_special_tokens", false);
        root.put("tokenizer_class", "Qwen2Tokenizer");
        root.put("unk_token", null);
        return DemoJson.bytes(root);
    }
}
