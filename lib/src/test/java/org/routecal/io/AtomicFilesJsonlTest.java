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
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
        assertEquals("x", Json.MAPPER.readTree(tmp.resolve("sub/m.json").toFile()).get("format").asText());
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
        assertTrue(e.getMessage().startsWith(p + " line 3: not valid JSON"), e.getMessage());
        Files.writeString(p, "{\"a\":1}\n{\"a\":\"x\"}\n");
        e = assertThrows(RoutecalException.class, () -> Jsonl.read(p, Row.class));
        assertTrue(e.getMessage().startsWith(p + " line 2:"), e.getMessage());
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

    /** One object per line, strictly: a second value or trailing text on a line is an error naming file and line. */
    @Test
    void aLineHoldsExactlyOneValue() throws IOException {
        Path p = tmp.resolve("two.jsonl");
        Files.writeString(p, "{\"a\":1}\n{\"a\":2} {\"a\":3}\n");
        RoutecalException e = assertThrows(RoutecalException.class, () -> Jsonl.read(p));
        assertTrue(e.getMessage().startsWith(p + " line 2: not valid JSON") && e.getMessage().contains("one JSON object per line"), e.getMessage());
        Files.writeString(p, "{\"a\":1} trailing words\n");
        e = assertThrows(RoutecalException.class, () -> Jsonl.read(p));
        assertTrue(e.getMessage().startsWith(p + " line 1: not valid JSON"), e.getMessage());
        Files.writeString(p, "{\"a\":1}\n[1]\n");
        e = assertThrows(RoutecalException.class, () -> Jsonl.readObjects(p));
        assertTrue(e.getMessage().startsWith(p + " line 2: expected a JSON object"), e.getMessage());
    }

    /** A byte-order mark is accepted; bytes that are not UTF-8 are named with their line; CRLF endings are fine. */
    @Test
    void bomAcceptedAndBadBytesNamedWithTheLine() throws IOException {
        Path p = tmp.resolve("bom.jsonl");
        byte[] body = "{\"t\":\"é\"}\r\n{\"t\":\"b\"}\n".getBytes(StandardCharsets.UTF_8);
        byte[] withBom = new byte[body.length + 3];
        withBom[0] = (byte) 0xEF;
        withBom[1] = (byte) 0xBB;
        withBom[2] = (byte) 0xBF;
        System.arraycopy(body, 0, withBom, 3, body.length);
        Files.write(p, withBom);
        assertEquals(List.of("é", "b"), Jsonl.read(p).stream().map(n -> n.get("t").asText()).toList());
        Path latin1 = tmp.resolve("latin1.jsonl");
        Files.write(latin1, "{\"t\":\"a\"}\n{\"t\":\"Z\u00fcrich\"}\n".getBytes(StandardCharsets.ISO_8859_1));
        RoutecalException e = assertThrows(RoutecalException.class, () -> Jsonl.read(latin1));
        assertTrue(e.getMessage().startsWith(latin1 + " line 2: not valid UTF-8 (at byte 8 of the line)"), e.getMessage());
    }

    /**
     * Files and directories written atomically get the permissions the process umask gives any new file (a temp file
     * made with Files.createTempFile would carry 0600 into place, and a temp directory 0700: unreadable for vLLM or a
     * colleague).
     */
    @Test
    void atomicWritesUseTheUmaskNotPrivateTempPermissions() throws IOException {
        assumeTrue(tmp.getFileSystem().supportedFileAttributeViews().contains("posix"));
        Path plainFile = Files.createFile(tmp.resolve("plain.txt"));
        Path plainDir = Files.createDirectory(tmp.resolve("plainDir"));
        Path file = tmp.resolve("atomic.json");
        AtomicFiles.writeJson(file, Map.of("a", 1));
        assertEquals(Files.getPosixFilePermissions(plainFile), Files.getPosixFilePermissions(file));
        Path streamed = tmp.resolve("streamed.bin");
        try (AtomicFiles.Output o = AtomicFiles.open(streamed)) { o.write(new byte[]{1, 2}); }
        assertEquals(Files.getPosixFilePermissions(plainFile), Files.getPosixFilePermissions(streamed));
        Path dir = tmp.resolve("out");
        Path staging = AtomicFiles.tempDirectory(dir);
        Files.writeString(staging.resolve("x"), "y");
        AtomicFiles.commitDirectory(staging, dir);
        assertEquals(Files.getPosixFilePermissions(plainDir), Files.getPosixFilePermissions(dir));
        assertTrue(Files.getPosixFilePermissions(dir).contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE));
    }
}
