package org.routecal.io;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.routecal.RoutecalException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class AtomicFilesJsonlTest {
    @TempDir Path tmp;

    private long filesIn(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) { return s.count(); }
    }

    @Test
    void writeReplacesAtomicallyAndLeavesNoTemp() throws IOException {
        Path p = tmp.resolve("sub/a.txt");
        AtomicFiles.writeString(p, "one");
        AtomicFiles.writeString(p, "two");
        assertEquals("two", Files.readString(p));
        AtomicFiles.writeJson(tmp.resolve("sub/m.json"), Map.of("format", "x"));
        assertEquals("x", Jsonl.MAPPER.readTree(tmp.resolve("sub/m.json").toFile()).get("format").asText());
        assertEquals(2, filesIn(p.getParent()));
    }

    @Test
    void failureKeepsOldContentAndDeletesTemp() throws IOException {
        Path p = tmp.resolve("a.txt");
        AtomicFiles.writeString(p, "old");
        assertThrows(IllegalStateException.class, () -> AtomicFiles.write(p, out -> {
            out.write("partial".getBytes(StandardCharsets.UTF_8));
            throw new IllegalStateException("boom");
        }));
        assertEquals("old", Files.readString(p));
        assertEquals(1, filesIn(tmp));
        // open(): nothing visible until close; abort discards.
        AtomicFiles.Output out = AtomicFiles.open(p);
        out.write(new byte[] {'n', 'e', 'w'});
        assertEquals("old", Files.readString(p));
        out.abort();
        assertEquals("old", Files.readString(p));
        assertEquals(1, filesIn(tmp));
        try (AtomicFiles.Output o = AtomicFiles.open(p)) { o.write("new".getBytes(StandardCharsets.UTF_8)); }
        assertEquals("new", Files.readString(p));
    }

    @Test
    void jsonlRoundTripAndErrorsNameTheLine() throws IOException {
        Path p = tmp.resolve("rows.jsonl");
        Jsonl.write(p, List.of(Map.of("a", 1, "text", "line\nbreak"), Map.of("a", 2)));
        List<JsonNode> rows = Jsonl.read(p);
        assertEquals(2, rows.size());
        assertEquals("line\nbreak", rows.get(0).get("text").asText());
        record Row(int a, String text) {}
        assertEquals(2, Jsonl.read(p, Row.class).get(1).a());
        Files.writeString(p, "{\"a\":1}\n\n{\"a\": oops}\n");
        RoutecalException e = assertThrows(RoutecalException.class, () -> Jsonl.read(p));
        assertTrue(e.getMessage().startsWith(p + ":3: invalid JSON"), e.getMessage());
        Files.writeString(p, "{\"a\":1}\n{\"a\":\"x\"}\n");
        e = assertThrows(RoutecalException.class, () -> Jsonl.read(p, Row.class));
        assertTrue(e.getMessage().startsWith(p + ":2:"), e.getMessage());
        assertTrue(assertThrows(RoutecalException.class, () -> Jsonl.read(tmp.resolve("none.jsonl"))).getMessage().contains("not found"));
    }

    @Test
    void truncatedLastLineIsReportedAndCutBeforeAppending() throws IOException {
        Path p = tmp.resolve("log.jsonl");
        try (Jsonl.Appender a = Jsonl.appender(p)) {
            a.append(Map.of("i", 0));
            a.append(Map.of("i", 1));
        }
        // A killed writer: half a line at the end.
        Files.writeString(p, "{\"i\":2,\"te", java.nio.file.StandardOpenOption.APPEND);
        assertThrows(RoutecalException.class, () -> Jsonl.read(p));
        Jsonl.ReadResult r = Jsonl.readTolerant(p);
        assertTrue(r.truncated());
        assertEquals(3, r.droppedLine());
        assertEquals("{\"i\":2,\"te", r.droppedText());
        assertEquals(2, r.rows().size());
        try (Jsonl.Appender a = Jsonl.appender(p)) {
            assertEquals(10, a.droppedTailBytes());
            a.append(Map.of("i", 2));
        }
        List<JsonNode> rows = Jsonl.read(p);
        assertEquals(List.of(0, 1, 2), rows.stream().map(n -> n.get("i").asInt()).toList());
        // A complete last value without newline (another tool's file) is kept, not cut.
        Files.writeString(p, "{\"i\":0}\n{\"i\":1}");
        assertFalse(Jsonl.readTolerant(p).truncated());
        try (Jsonl.Appender a = Jsonl.appender(p)) {
            assertEquals(0, a.droppedTailBytes());
            a.append(Map.of("i", 2));
        }
        assertEquals(3, Jsonl.read(p).size());
        assertEquals(0, Jsonl.readTolerant(tmp.resolve("missing.jsonl")).rows().size());
    }
}
