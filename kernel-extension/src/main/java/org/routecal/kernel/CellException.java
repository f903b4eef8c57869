package org.routecal.kernel;

import java.util.List;

/**
 * A cell failed in a way the user should see as a short error output (Jupyter's ename/evalue/traceback), not as the
 * kernel's Java stack. Subclasses name the kind, because basekernel reports the exception's simple class name as
 * {@code ename}.
 */
public class CellException extends Exception {
    private final List<String> traceback;

    CellException(String message, List<String> traceback) {
        super(message);
        this.traceback = List.copyOf(traceback);
    }

    /** The error name shown to the user. */
    public String ename() {
        return getClass().getSimpleName();
    }

    /** Lines shown under the error, already pointing at the user's cell lines. */
    public List<String> traceback() {
        return traceback;
    }

    /** Java that does not compile: the message and the offending cell line. */
    public static final class CompilationError extends CellException {
        CompilationError(String message, List<String> traceback) { super(message, traceback); }
    }

    /** An exception thrown by the user's code or by a stage; the message starts with the exception type. */
    public static final class RuntimeError extends CellException {
        private final String type;

        RuntimeError(String type, String message, List<String> traceback) {
            super(message, traceback);
            this.type = type;
        }

        /** The Java exception's simple name, e.g. {@code ArithmeticException}. */
        @Override public String ename() { return type; }
    }

    /** A magic that does not exist, or options its command does not accept: the usage text. */
    public static final class UsageError extends CellException {
        UsageError(String message, List<String> usage) { super(message, usage); }
    }

    /** The cell was interrupted (kernel interrupt request). */
    public static final class Interrupted extends CellException {
        Interrupted() { super("the cell was interrupted", List.of("the cell was interrupted")); }
    }
}
