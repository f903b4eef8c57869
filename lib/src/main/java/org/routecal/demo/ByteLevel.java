package org.routecal.demo;

/**
 * GPT-2's byte-level alphabet, as used by HF {@code tokenizers}' ByteLevel pre-tokenizer and decoder (and by Qwen):
 * each of the 256 byte values is shown as one printable code point, so BPE can work on any UTF-8 text without an
 * unknown token. Printable Latin-1 bytes map to themselves; the other 68 map to U+0100 and up, in byte order.
 */
final class ByteLevel {
    private ByteLevel() {}

    /** [256]: byte value → its code point. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** [256]: position in GPT-2's vocabulary order (printable bytes first, then the remapped ones) → byte value. */
    static final int[] ORDER = new int[256];

    static {
        int n = 0, next = 0;
        for (int b = 0; b < 256; b++) {
            if (printable(b)) {
                BYTE_TO_CHAR[b] = (char) b;
                ORDER[next++] = b;
            }
        }
        for (int b = 0; b < 256; b++) {
            if (!printable(b)) {
                BYTE_TO_CHAR[b] = (char) (256 + n++);
                ORDER[next++] = b;
            }
        }
    }

    private static boolean printable(int b) {
        return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    }

    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** UTF-8 bytes → byte-level string. */
    static String encode(byte[] utf8) {
        StringBuilder sb = new StringBuilder(utf8.length);
        for (byte b : utf8) sb.append(BYTE_TO_CHAR[b & 0xFF]);
        return sb.toString();
    }

    /** Byte-level string → bytes (not necessarily valid UTF-8: a token may hold part of a character). */
    static byte[] decode(String s) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            out[i] = (byte) (c < 256 && printable(c) ? c : byteOfRemapped(c));
        }
        return out;
    }

    private static int byteOfRemapped(char c) {
        for (int b = 0; b < 256; b++) if (BYTE_TO_CHAR[b] == c) return b;
        throw new IllegalArgumentException("not a byte-level character: U+" + Integer.toHexString(c));
    }
}
