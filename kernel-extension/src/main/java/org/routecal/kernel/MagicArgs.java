package org.routecal.kernel;

import java.util.ArrayList;
import java.util.List;

/** Splits a magic line into words like a POSIX shell: whitespace separates, quotes group, backslash escapes. */
final class MagicArgs {
    private MagicArgs() {}

    static List<String> split(String line) throws CellException {
        List<String> words = new ArrayList<>();
        StringBuilder w = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) quote = 0;
                else if (c == '\\' && quote == '"' && i + 1 < line.length()) w.append(line.charAt(++i));
                else w.append(c);
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (c == '\\' && i + 1 < line.length()) {
                w.append(line.charAt(++i));
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) words.add(w.toString());
                w.setLength(0);
                inWord = false;
            } else {
                w.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            String msg = "unterminated " + quote + " quote in magic line: " + line;
            throw new CellException.UsageError(msg, List.of(msg));
        }
        if (inWord) words.add(w.toString());
        return words;
    }
}
