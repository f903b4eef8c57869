package org.routecal.io;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * The one Jackson {@link ObjectMapper} of routecal. A mapper is expensive to build and thread-safe once configured,
 * so every reader and writer shares this one instead of making its own.
 *
 * <p>Reading is strict about trailing content: {@code {"a":1} {"b":2}} or {@code {"a":1} junk} is an error, never a
 * silently dropped second value. Never reconfigure {@link #MAPPER} (it is shared); derive a reader or writer
 * ({@code MAPPER.writer(...)}, {@link #PRETTY}) for other settings.
 */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** Indented output (manifests, metrics and other files people read). */
    public static final ObjectWriter PRETTY = MAPPER.writerWithDefaultPrettyPrinter();

    /** YAML through the same data binding (notebook parameters and run defaults). */
    public static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Json() {}
}
