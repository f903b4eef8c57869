package org.routecal;

/**
 * A failure the user can act on: bad input, a missing file, an unsupported architecture.
 * The CLI prints only the message (no stack trace) and exits with {@link #exitCode()}.
 * Messages name the file, tensor or field at fault and, where known, the likely cause.
 */
public class RoutecalException extends RuntimeException {
    private final int exitCode;

    public RoutecalException(String message) { this(message, null, 2); }

    public RoutecalException(String message, Throwable cause) { this(message, cause, 2); }

    public RoutecalException(String message, Throwable cause, int exitCode) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public int exitCode() { return exitCode; }
}
