package org.routecal.corpus;

import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Locale;

import org.routecal.pipeline.Sha256;

/**
 * When two texts count as duplicates, the one rule every stage uses (the corpus loader, select's pool, synthesize's
 * generated candidates): equal after Unicode NFC, case folding ({@link Locale#ROOT} lower case), whitespace runs
 * collapsed to one space and the ends trimmed. So "Hello  World\n" and "hello world" are duplicates, "Hello, World"
 * is not.
 */
public final class DedupKey {
    private DedupKey() { }

    /** The normalised text. */
    public static String normalize(String text) {
        return Normalizer.normalize(text, Normalizer.Form.NFC).strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
    }

    /** SHA-256 of {@link #normalize}: a fixed-size key, so a set of seen texts stays small. */
    public static String of(String text) {
        return Sha256.of(normalize(text).getBytes(StandardCharsets.UTF_8));
    }
}
