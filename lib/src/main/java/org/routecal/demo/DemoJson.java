package org.routecal.demo;

import org.routecal.io.Json;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** Pretty JSON with '\n' line ends whatever the platform (Jackson's default indenter uses the system separator). */
final class DemoJson {
    private DemoJson() {}

    private static final ObjectWriter WRITER;

    static {
        DefaultPrettyPrinter pp = new DefaultPrettyPrinter().withObjectIndenter(new DefaultIndenter("  ", "\n"));
        WRITER = Json.MAPPER.writer(pp);
    }

    static byte[] bytes(Object value) {
        try {
            return (WRITER.writeValueAsString(value) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
