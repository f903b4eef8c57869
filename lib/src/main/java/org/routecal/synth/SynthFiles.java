package org.routecal.synth;

import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Small file helpers of the synth stages: whole-file writes are atomic (temp file in the same directory + rename). */
public final class SynthFiles {
    private SynthFiles() {}

    public static void writeString(Path file, String text) {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    public static void write(Path file, byte[] bytes) {
        try {
            Path dir = file.toAbsolutePath().getParent();
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
            try {
                Files.write(tmp, bytes);
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new RoutecalException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    public static void writeJson(Path file, Object value) {
        try {
            writeString(file, AppendLog.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value) + "\n");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new RoutecalException("cannot serialise " + file + ": " + e.getOriginalMessage(), e);
        }
    }
}
