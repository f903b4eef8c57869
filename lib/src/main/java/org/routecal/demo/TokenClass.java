package org.routecal.demo;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.util.Set;

/**
 * The token classes whose routing the demo model plants: each class has its own group of experts in every layer.
 * A token's class comes from the characters it stands for; a token holding only part of a UTF-8 character is
 * classed by the script its lead byte starts (Greek 0xCE–0xCF, Cyrillic 0xD0–0xD4, CJK/Hangul 0xE3–0xED).
 */
public enum TokenClass {
    /** Digits and arithmetic/math symbols. */
    MATH,
    /** Code punctuation (brackets, braces, operators' neighbours) and common keywords of the demo's languages. */
    CODE,
    /** Latin-script words (English, French, German, Spanish prose). */
    LATIN,
    GREEK,
    CYRILLIC,
    /** Chinese, Japanese (kana) and Korean (Hangul), plus CJK punctuation. */
    CJK,
    /** Whitespace, sentence punctuation, special tokens, stray continuation bytes: no planted preference. */
    OTHER;

    private static final Set<String> KEYWORDS = Set.of("def", "return", "class", "import", "from", "for", "while",
            "if", "else", "elif", "in", "print", "self", "public", "private", "static", "void", "int", "long", "double",
            "new", "throw", "function", "const", "let", "var", "async", "await", "fn", "mut", "vec", "println",
            "include", "printf", "main", "true", "false", "null", "None", "True", "False", "SELECT", "FROM", "WHERE",
            "JOIN", "GROUP", "BY", "ORDER", "LIMIT", "AS", "ON", "HAVING", "SUM", "DESC", "echo", "done", "do", "then",
            "fi", "set", "record", "String", "Integer", "console", "log", "result", "push", "iter", "filter", "len");
    private static final String MATH_SYMBOLS = "+-*/=^%<>×÷·√π≤≥±∑∫²³½°Ω";
    private static final String CODE_SYMBOLS = "{}[]()_;:#@$&|\\`~";

    /** The lower-case name used in files ("math", "greek", …). */
    public String jsonName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The class of a token given the bytes it stands for ({@code special} tokens are always OTHER). */
    public static TokenClass of(byte[] bytes, boolean special) {
        if (special) return OTHER;
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return ofPartial(bytes);
        }
        return ofText(s);
    }

    private static TokenClass ofPartial(byte[] bytes) {
        for (byte b : bytes) {
            int u = b & 0xFF;
            if (u == 0xCE || u == 0xCF) return GREEK;
            if (u >= 0xD0 && u <= 0xD4) return CYRILLIC;
            if (u >= 0xE3 && u <= 0xED) return CJK;
        }
        return OTHER;
    }

    /** By the first character of the strongest kind: scripts, then digits/math, then letters/keywords, then code. */
    static TokenClass ofText(String s) {
        int greek = 0, cyrillic = 0, cjk = 0, math = 0, latin = 0, code = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            Character.UnicodeScript script = Character.UnicodeScript.of(cp);
            if (MATH_SYMBOLS.indexOf(cp) >= 0) math++; // before scripts: π and Ω are Greek letters used as symbols
            else if (script == Character.UnicodeScript.GREEK) greek++;
            else if (script == Character.UnicodeScript.CYRILLIC) cyrillic++;
            else if (script == Character.UnicodeScript.HAN || script == Character.UnicodeScript.HIRAGANA
                    || script == Character.UnicodeScript.KATAKANA || script == Character.UnicodeScript.HANGUL
                    || (cp >= 0x3000 && cp <= 0x303F) || (cp >= 0xFF00 && cp <= 0xFFEF)) cjk++;
            else if (Character.isDigit(cp)) math++;
            else if (Character.isLetter(cp)) latin++;
            else if (CODE_SYMBOLS.indexOf(cp) >= 0) code++;
        }
        if (greek > 0 && greek >= cyrillic && greek >= cjk) return GREEK;
        if (cyrillic > 0 && cyrillic >= cjk) return CYRILLIC;
        if (cjk > 0) return CJK;
        if (math > 0 && math >= latin) return MATH;
        if (latin > 0) return KEYWORDS.contains(s.strip()) ? CODE : LATIN;
        if (code > 0) return CODE;
        return OTHER;
    }
}
