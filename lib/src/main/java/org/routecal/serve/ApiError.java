package org.routecal.serve;

/**
 * A refused request: its HTTP status, a message for the client and, when one field is at fault, that field's name
 * ({@code param} in OpenAI's error object), so a client can tell what to fix without parsing prose.
 */
final class ApiError extends RuntimeException {
    final int status;
    final String param;

    ApiError(int status, String message) { this(status, message, null); }

    ApiError(int status, String message, String param) {
        super(message, null, false, false); // expected answers, not bugs: no stack trace
        this.status = status;
        this.param = param;
    }

    static ApiError badField(String field, String message) { return new ApiError(400, message, field); }

    /** OpenAI's error {@code type} for the status. */
    String type() {
        return switch (status) {
            case 401 -> "authentication_error";
            case 404 -> "not_found_error";
            case 413 -> "request_too_large";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }
}
