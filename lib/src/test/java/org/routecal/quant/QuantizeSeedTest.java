package org.routecal.quant;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.cli.Main;
import org.routecal.demo.DemoAssets;

/** What {@code quantize --seed} means (issue 17): the calibration sampling, nothing else; quantize is deterministic. */
class QuantizeSeedTest {
    @Test
    void seedOnlyPicksSampledRows(@TempDir Path tmp) throws Exception {
        Path model = DemoAssets.ensure(tmp.resolve("cache"));
        StringBuilder sb = new StringBuilder();
        String[] texts = {"one two three four five six", "the cat sat on the mat today", "2 + 2 = 4 and 3 + 5 = 8", "x = f(y); return x * 2;",
                "seven eight nine ten eleven", "a bird in the hand is worth two", "12 * 3 = 36 and 40 / 8 = 5", "for (i = 0; i < n; i++) s += i;"};
        for (int i = 0; i < texts.length; i++) {
            sb.append("{\"sample_id\":\"s").append(i).append("\",\"domain\":\"").append(i % 2 == 0 ? "prose" : "code").append("\",\"text\":\"")
                    .append(texts[i]).append("\"}\n");
        }
        Path corpus = tmp.resolve("c.jsonl");
        Files.writeString(corpus, sb);
        byte[] a = quantize(model, corpus, tmp.resolve("a"), "--seed", "1");
        byte[] b = quantize(model, corpus, tmp.resolve("b"), "--seed", "2");
        assertArrayEquals(a, b, "without sampling flags every row is used: the seed changes nothing, quantize is deterministic");
        byte[] c = quantize(model, corpus, tmp.resolve("c"), "--seed", "1", "--max-samples", "2");
        byte[] d = quantize(model, corpus, tmp.resolve("d"), "--seed", "2", "--max-samples", "2");
        byte[] e = quantize(model, corpus, tmp.resolve("e"), "--seed", "1", "--max-samples", "2");
        assertArrayEquals(c, e, "the same seed samples the same rows");
        assertFalse(Arrays.equals(c, d), "another seed samples other calibration rows");
    }

    static byte[] quantize(Path model, Path corpus, Path out, String... extra) throws Exception {
        String[] base = {"quantize", "--model", model.toString(), "--corpus", corpus.toString(), "--out", out.toString(), "--scheme", "w4a16",
                "--group-size", "32", "--min-tokens", "1"};
        String[] args = Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        assertEquals(0, Main.run(args));
        return Files.readAllBytes(out.resolve("model.safetensors"));
    }
}
