package org.routecal.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The demo corpus and candidate pool: JSONL generated deterministically by this class from templates and word lists
 * written for the project (no third-party text), committed as jar resources under {@code org/routecal/demo/}.
 *
 * <p>The corpus is deliberately skewed: almost no Greek, Cyrillic or CJK text, so the demo model's experts planted for
 * those scripts are starved during routing capture. The pool is rich in exactly those, for {@code select} to find.
 * Every line is {@code {"sample_id","domain","language", "messages":[{role,content[,reasoning_content]}] | "text"}};
 * sample ids and texts are unique across both files.
 */
public final class DemoCorpus {
    private DemoCorpus() {}

    public static final String CORPUS = "corpus.jsonl";
    public static final String POOL = "pool.jsonl";
    public static final String README = "README.md";
    static final long SEED = 20261123L;

    /** Samples per (domain, language) in the corpus: few Greek/Cyrillic/CJK by design. */
    private static final Map<String, Integer> CORPUS_MIX = mix(
            "chat/en", 330, "code/en", 250, "math/en", 200, "stem/en", 150,
            "multilingual/fr", 22, "multilingual/de", 22, "multilingual/es", 22,
            "multilingual/el", 1, "multilingual/ru", 2, "multilingual/bg", 1, "multilingual/zh", 1, "multilingual/ja", 1);

    /** Samples per (domain, language) in the pool: every script well represented. */
    private static final Map<String, Integer> POOL_MIX = mix(
            "chat/en", 700, "code/en", 500, "math/en", 450, "stem/en", 400,
            "multilingual/fr", 120, "multilingual/de", 120, "multilingual/es", 120,
            "multilingual/el", 260, "multilingual/ru", 220, "multilingual/uk", 130, "multilingual/bg", 130,
            "multilingual/zh", 220, "multilingual/ja", 160, "multilingual/ko", 100);

    /** The corpus resource's bytes (UTF-8 JSONL). */
    public static byte[] corpusBytes() {
        return resource(CORPUS);
    }

    /** The pool resource's bytes (UTF-8 JSONL). */
    public static byte[] poolBytes() {
        return resource(POOL);
    }

    /** Copies corpus.jsonl, pool.jsonl and README.md from the jar into {@code dir}. */
    public static void copyTo(Path dir) {
        try {
            Files.createDirectories(dir);
            for (String name : List.of(CORPUS, POOL, README)) Files.write(dir.resolve(name), resource(name));
        } catch (IOException e) {
            throw new RoutecalException("cannot write demo corpus files to " + dir + ": " + e.getMessage(), e);
        }
    }

    static byte[] resource(String name) {
        try (InputStream in = DemoCorpus.class.getResourceAsStream(name)) {
            if (in == null) throw new RoutecalException("demo resource org/routecal/demo/" + name + " missing from the jar");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Generates both files' lines; the pool avoids every corpus text. Index 0 = corpus, 1 = pool. */
    static List<List<DemoSample>> generate() {
        Set<String> seen = new HashSet<>();
        List<DemoSample> corpus = generate(CORPUS_MIX, "c", new DemoRandom(SEED).fork("corpus"), seen);
        List<DemoSample> pool = generate(POOL_MIX, "p", new DemoRandom(SEED).fork("pool"), seen);
        return List.of(corpus, pool);
    }

    private static List<DemoSample> generate(Map<String, Integer> mixture, String prefix, DemoRandom rnd, Set<String> seen) {
        List<String> slots = new ArrayList<>();
        mixture.forEach((key, n) -> { for (int i = 0; i < n; i++) slots.add(key); });
        for (int i = slots.size() - 1; i > 0; i--) { // Fisher–Yates: interleave domains
            int j = rnd.nextInt(i + 1);
            String t = slots.get(i); slots.set(i, slots.get(j)); slots.set(j, t);
        }
        Map<String, Integer> perDomain = new LinkedHashMap<>();
        List<DemoSample> out = new ArrayList<>();
        for (String slot : slots) {
            String domain = slot.substring(0, slot.indexOf('/')), lang = slot.substring(slot.indexOf('/') + 1);
            DemoSample s = null;
            for (int attempt = 0; attempt < 100 && s == null; attempt++) {
                DemoSample candidate = sample(domain, lang, rnd);
                if (seen.add(candidate.plainText())) s = candidate;
            }
            if (s == null) continue; // template space exhausted for this slot: fewer samples, still distinct
            int k = perDomain.merge(domain, 1, Integer::sum);
            out.add(s.withId(String.format(java.util.Locale.ROOT, "%s-%s-%05d", prefix, domain, k)));
        }
        return out;
    }

    private static DemoSample sample(String domain, String lang, DemoRandom rnd) {
        return switch (domain) {
            case "chat" -> ChatSamples.next(rnd);
            case "code" -> CodeSamples.next(rnd);
            case "math" -> MathSamples.next(rnd);
            case "stem" -> StemSamples.next(rnd);
            case "multilingual" -> multilingual(MultilingualTexts.ALL.get(lang), rnd);
            default -> throw new IllegalArgumentException(domain);
        };
    }

    private static DemoSample multilingual(MultilingualTexts.Language lang, DemoRandom rnd) {
        if (!rnd.chance(0.4)) return DemoSample.text("multilingual", lang.code(), MultilingualTexts.paragraph(lang, rnd));
        int[] idx = MultilingualTexts.parallelIndices(rnd);
        String english = MultilingualTexts.join(null, MultilingualTexts.PARALLEL_EN, idx);
        String foreign = MultilingualTexts.join(lang, lang.sentences(), idx);
        boolean toForeign = rnd.chance(0.5);
        return DemoSample.chat("multilingual", lang.code(), List.of(
                DemoSample.Message.of("user", "Translate into " + (toForeign ? lang.name() : "English") + ": "
                        + (toForeign ? english : foreign)),
                DemoSample.Message.of("assistant", toForeign ? foreign : english)));
    }

    /** One JSON line per sample, keys in a fixed order, '\n' line ends: the same bytes on every platform. */
    static byte[] toJsonl(List<DemoSample> samples) {
        ObjectMapper json = Json.MAPPER;
        StringBuilder sb = new StringBuilder();
        try {
            for (DemoSample s : samples) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("sample_id", s.sampleId());
                row.put("domain", s.domain());
                row.put("language", s.language());
                if (s.messages() != null) {
                    List<Map<String, String>> msgs = new ArrayList<>();
                    for (DemoSample.Message m : s.messages()) {
                        Map<String, String> mm = new LinkedHashMap<>();
                        mm.put("role", m.role());
                        mm.put("content", m.content());
                        if (m.reasoningContent() != null) mm.put("reasoning_content", m.reasoningContent());
                        msgs.add(mm);
                    }
                    row.put("messages", msgs);
                } else {
                    row.put("text", s.text());
                }
                sb.append(json.writeValueAsString(row)).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Regenerates the committed resources: {@code DemoCorpus <resources/org/routecal/demo dir>}. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        List<List<DemoSample>> both = generate();
        Files.write(dir.resolve(CORPUS), toJsonl(both.get(0)));
        Files.write(dir.resolve(POOL), toJsonl(both.get(1)));
    }

    private static Map<String, Integer> mix(Object... kv) {
        Map<String, Integer> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], (Integer) kv[i + 1]);
        return m;
    }
}
