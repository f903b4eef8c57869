package org.routecal.tokenize.jinja;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Splits a template into text and tag tokens the way jinja2 3.1's lexer does under the environment transformers uses
 * for chat templates: {@code trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False}. The whitespace rules
 * are the part that must match byte for byte, so they follow jinja2's regexes closely:
 * <ul>
 *   <li>{@code {%-}, {{-}, {#-} strip all whitespace before the tag; {@code -%}, -}}, -#}} all whitespace after;</li>
 *   <li>lstrip_blocks: spaces before {@code {%} or {@code {#} (not {@code {{}) on an otherwise blank line are dropped,
 *       unless the tag is written {@code {%+};</li>
 *   <li>trim_blocks: one newline right after {@code %}} or {@code #}} is dropped, unless written {@code +%}};</li>
 *   <li>newlines are normalised to {@code \n} and one trailing newline of the template is dropped.</li>
 * </ul>
 */
final class Lexer {
    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    record Tok(Kind kind, String text, int line) {
        boolean is(Kind k, String t) { return kind == k && text.equals(t); }
        boolean isName(String t) { return is(Kind.NAME, t); }
        boolean isOp(String t) { return is(Kind.OP, t); }
    }

    private static final String[] OPS = {"//", "**", "==", "!=", "<=", ">=",
        "+", "-", "*", "/", "%", "~", "[", "]", "(", ")", "{", "}", "<", ">", "=", ".", ":", "|", ",", ";"};

    private final String src;
    private final List<Tok> out = new ArrayList<>();
    private int pos;
    private boolean lineStarting = true;

    private Lexer(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        this.src = s;
    }

    static List<Tok> lex(String source) {
        Lexer lx = new Lexer(source);
        lx.run();
        return lx.out;
    }

    private int line() {
        int n = 1;
        for (int i = 0; i < pos && i < src.length(); i++) if (src.charAt(i) == '\n') n++;
        return n;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTag(pos);
            if (tag < 0) {
                emit(Kind.TEXT, src.substring(pos));
                break;
            }
            String text = src.substring(pos, tag);
            char type = src.charAt(tag + 1);
            char sign = tag + 2 < src.length() ? src.charAt(tag + 2) : 0;
            if (sign == '-') {
                text = Py.rstrip(text, null);
            } else if (sign != '+' && type != '{') {
                int lPos = text.lastIndexOf('\n') + 1;
                if ((lPos > 0 || lineStarting) && Py.isBlank(text.substring(lPos))) text = text.substring(0, lPos);
            }
            emit(Kind.TEXT, text);
            pos = tag + 2 + (sign == '-' || sign == '+' ? 1 : 0);
            lineStarting = false;
            if (type == '#') comment();
            else if (type == '%' && rawBegins()) raw();
            else tag(type == '%');
        }
        out.add(new Tok(Kind.EOF, "", line()));
    }

    private int nextTag(int from) {
        int best = -1;
        for (String open : new String[] {"{{", "{%", "{#"}) {
            int i = src.indexOf(open, from);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    private void emit(Kind kind, String text) {
        if (kind == Kind.TEXT && text.isEmpty()) return;
        out.add(new Tok(kind, text, line()));
    }

    private void comment() {
        int end = src.indexOf("#}", pos);
        if (end < 0) throw JinjaException.at(line(), "missing end of comment tag");
        char before = end > pos ? src.charAt(end - 1) : 0;
        pos = end + 2;
        afterBlockEnd(before == '-' ? '-' : before == '+' ? '+' : 0);
    }

    /** Consumes what follows {@code %}} or {@code #}}: all whitespace after {@code -}, one newline otherwise (trim_blocks). */
    private void afterBlockEnd(char sign) {
        int start = pos;
        if (sign == '-') {
            while (pos < src.length() && Py.isSpace(src.charAt(pos))) pos++;
        } else if (sign != '+' && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        lineStarting = pos > start ? src.charAt(pos - 1) == '\n' : false;
    }

    private boolean rawBegins() {
        int p = skipSpace(pos);
        return src.startsWith("raw", p) && (p + 3 >= src.length() || !Character.isLetterOrDigit(src.charAt(p + 3)))
            && (src.startsWith("%}", skipSpace(p + 3)) || src.startsWith("-%}", skipSpace(p + 3)));
    }

    private void raw() {
        int p = skipSpace(skipSpace(pos) + 3);
        boolean minus = src.charAt(p) == '-';
        pos = p + (minus ? 3 : 2);
        if (minus) while (pos < src.length() && Py.isSpace(src.charAt(pos))) pos++;
        int search = pos;
        while (true) {
            int open = src.indexOf("{%", search);
            if (open < 0) throw JinjaException.at(line(), "missing end of raw directive");
            char sign = open + 2 < src.length() ? src.charAt(open + 2) : 0;
            int q = skipSpace(open + 2 + (sign == '-' || sign == '+' ? 1 : 0));
            if (!src.startsWith("endraw", q)) { search = open + 2; continue; }
            q = skipSpace(q + 6);
            String text = src.substring(pos, open);
            if (sign == '-') text = Py.rstrip(text, null);
            else if (sign != '+') {
                int lPos = text.lastIndexOf('\n') + 1;
                if (lPos > 0 && Py.isBlank(text.substring(lPos))) text = text.substring(0, lPos);
            }
            emit(Kind.TEXT, text);
            char endSign = src.charAt(q) == '-' || src.charAt(q) == '+' ? src.charAt(q) : 0;
            pos = q + (endSign != 0 ? 3 : 2);
            afterBlockEnd(endSign);
            return;
        }
    }

    private int skipSpace(int p) {
        while (p < src.length() && Py.isSpace(src.charAt(p))) p++;
        return p;
    }

    /** Expression tokens up to the closing {@code %}} or {@code }}}; brackets must balance first, as in jinja2. */
    private void tag(boolean block) {
        emit(block ? Kind.BLOCK_BEGIN : Kind.VAR_BEGIN, block ? "{%" : "{{");
        Deque<Character> balance = new ArrayDeque<>();
        String close = block ? "%}" : "}}";
        while (true) {
            if (pos >= src.length()) throw JinjaException.at(line(), "unexpected end of template, expected '" + close + "'");
            if (balance.isEmpty()) {
                if (src.startsWith("-" + close, pos)) {
                    pos += 3;
                    emit(block ? Kind.BLOCK_END : Kind.VAR_END, close);
                    afterBlockEnd('-');
                    return;
                }
                if (block && src.startsWith("+" + close, pos)) {
                    pos += 3;
                    emit(Kind.BLOCK_END, close);
                    afterBlockEnd('+');
                    return;
                }
                if (src.startsWith(close, pos)) {
                    pos += 2;
                    emit(block ? Kind.BLOCK_END : Kind.VAR_END, close);
                    if (block) afterBlockEnd((char) 0);
                    else lineStarting = false;
                    return;
                }
            }
            char c = src.charAt(pos);
            if (Py.isSpace(c)) { pos++; continue; }
            int line = line();
            if (Character.isDigit(c)) { number(line); continue; }
            if (Character.isLetter(c) || c == '_') {
                int s = pos;
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
                out.add(new Tok(Kind.NAME, src.substring(s, pos), line));
                continue;
            }
            if (c == '\'' || c == '"') { string(c, line); continue; }
            String op = null;
            for (String o : OPS) if (src.startsWith(o, pos)) { op = o; break; }
            if (op == null) throw JinjaException.at(line, "unexpected char '" + c + "'");
            switch (op) {
                case "(" -> balance.push(')');
                case "[" -> balance.push(']');
                case "{" -> balance.push('}');
                case ")", "]", "}" -> {
                    if (balance.isEmpty() || balance.pop() != op.charAt(0)) throw JinjaException.at(line, "unexpected '" + op + "'");
                }
                default -> { }
            }
            pos += op.length();
            out.add(new Tok(Kind.OP, op, line));
        }
    }

    private void number(int line) {
        int s = pos;
        digits();
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            pos++;
            digits();
            isFloat = true;
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int p = pos + 1;
            if (p < src.length() && (src.charAt(p) == '+' || src.charAt(p) == '-')) p++;
            if (p < src.length() && Character.isDigit(src.charAt(p))) {
                pos = p;
                digits();
                isFloat = true;
            }
        }
        String t = src.substring(s, pos).replace("_", "");
        out.add(new Tok(isFloat ? Kind.FLOAT : Kind.INT, t, line));
    }

    private void digits() {
        while (pos < src.length() && (Character.isDigit(src.charAt(pos))
            || (src.charAt(pos) == '_' && pos + 1 < src.length() && Character.isDigit(src.charAt(pos + 1))))) pos++;
    }

    /** A quoted string with Python's escapes (jinja2 decodes literals with {@code unicode-escape}). */
    private void string(char quote, int line) {
        StringBuilder sb = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) throw JinjaException.at(line, "unterminated string");
            char c = src.charAt(pos++);
            if (c == quote) break;
            if (c != '\\') { sb.append(c); continue; }
            if (pos >= src.length()) throw JinjaException.at(line, "unterminated string");
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case '\\' -> sb.append('\\');
                case '\'' -> sb.append('\'');
                case '"' -> sb.append('"');
                case 'a' -> sb.append('\u0007');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case '\n' -> { }
                case 'x' -> sb.appendCodePoint(hex(2, line));
                case 'u' -> sb.appendCodePoint(hex(4, line));
                case 'U' -> sb.appendCodePoint(hex(8, line));
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && pos < src.length() && src.charAt(pos) >= '0' && src.charAt(pos) <= '7'; k++) {
                            v = v * 8 + (src.charAt(pos++) - '0');
                        }
                        sb.appendCodePoint(v);
                    } else {
                        sb.append('\\').append(e);
                    }
                }
            }
        }
        out.add(new Tok(Kind.STRING, sb.toString(), line));
    }

    private int hex(int n, int line) {
        if (pos + n > src.length()) throw JinjaException.at(line, "truncated \\x/\\u escape");
        try {
            int v = Integer.parseInt(src.substring(pos, pos + n), 16);
            pos += n;
            return v;
        } catch (NumberFormatException e) {
            throw JinjaException.at(line, "bad escape \\" + src.substring(pos - 1, pos + n));
        }
    }
}
