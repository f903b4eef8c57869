package org.routecal.tokenize.jinja;

/**
 * A template failed to parse or render: a syntax error, an undefined value used where jinja2 raises, a type error, or
 * {@code raise_exception(...)} called by the template itself. The message carries the template line where known.
 */
public final class JinjaException extends RuntimeException {
    public JinjaException(String message) { super(message); }

    static JinjaException at(int line, String message) {
        return new JinjaException(line > 0 ? "line " + line + ": " + message : message);
    }
}
