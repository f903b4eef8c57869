package org.routecal.io.safetensors;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One parsed and validated .safetensors file. Layout: u64 little-endian header length N, N bytes of UTF-8 JSON
 * ({@code {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}}), then the data
 * section, whose offsets are relative to its start. Like the reference library, we require the tensors to tile the
 * data section exactly: sorted by begin they are contiguous from 0 and the last ends at the end of the file.
 * The channel is opened at construction and regions are mapped on demand (Java 17 maps at most 2 GB at once).
 */
final class SafetensorsFile implements AutoCloseable {
    /** The reference library refuses headers above 100 MB; so do we, to fail fast on garbage lengths. */
    static final long MAX_HEADER = 100L << 20;
    // a tensor named twice in a header is corruption, never "the last one wins"
    private static final com.fasterxml.jackson.databind.ObjectReader JSON = Json.MAPPER.reader().with(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    final Path path;
    final Map<String, TensorInfo> tensors; // header order
    final Map<String, String> metadata;
    private final FileChannel channel;

    private SafetensorsFile(Path path, FileChannel channel, Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    static SafetensorsFile open(Path path) {
        FileChannel ch;
        try {
            ch = FileChannel.open(path, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new RoutecalException(path + ": safetensors file not found");
        } catch (IOException e) {
            throw new RoutecalException(path + ": cannot open safetensors file: " + e.getMessage(), e);
        }
        try {
            return parse(path, ch);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        } catch (IOException e) {
            closeQuietly(ch);
            throw new RoutecalException(path + ": cannot read safetensors header: " + e.getMessage(), e);
        }
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        long fileSize = ch.size();
        if (fileSize < 8) throw new RoutecalException(path + ": file is " + fileSize + " bytes, shorter than the 8-byte header length (truncated?)");
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen < 0 || headerLen > MAX_HEADER) {
            throw new RoutecalException(path + ": header length " + Long.toUnsignedString(headerLen) + " is not plausible (not a safetensors file, or corrupt)");
        }
        if (8 + headerLen > fileSize) {
            throw new RoutecalException(path + ": header length " + headerLen + " runs past the end of the " + fileSize + "-byte file (truncated?)");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        JsonNode root;
        try {
            root = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new RoutecalException(path + ": header is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw new RoutecalException(path + ": header is not a JSON object");
        long dataStart = 8 + headerLen;
        long dataLen = fileSize - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        List<long[]> ranges = new ArrayList<>(); // {begin, end, index}
        List<String> names = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            JsonNode t = e.getValue();
            if (name.equals("__metadata__")) {
                if (!t.isObject()) throw new RoutecalException(path + ": __metadata__ is not a JSON object");
                t.fields().forEachRemaining(m -> {
                    if (!m.getValue().isTextual()) throw new RoutecalException(path + ": __metadata__ value '" + m.getKey() + "' is not a string");
                    metadata.put(m.getKey(), m.getValue().asText());
                });
                continue;
            }
            String where = path + ": tensor '" + name + "'";
            if (!t.isObject() || !t.path("dtype").isTextual() || !t.path("shape").isArray() || !t.path("data_offsets").isArray()
                    || t.get("data_offsets").size() != 2) {
                throw new RoutecalException(where + ": header entry needs \"dtype\", \"shape\" and two \"data_offsets\"");
            }
            DType dtype = DType.parse(t.get("dtype").asText(), path.toString(), name);
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                JsonNode d = t.get("shape").get(i);
                if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) throw new RoutecalException(where + ": shape " + t.get("shape") + " has a non-integer or negative dimension");
                shape[i] = d.asLong();
            }
            JsonNode b = t.get("data_offsets").get(0), en = t.get("data_offsets").get(1);
            if (!b.isIntegralNumber() || !en.isIntegralNumber() || b.asLong() < 0 || en.asLong() < b.asLong()) {
                throw new RoutecalException(where + ": data_offsets " + t.get("data_offsets") + " are not 0 ≤ begin ≤ end");
            }
            long begin = b.asLong(), end = en.asLong();
            long expected;
            try {
                expected = Math.multiplyExact(TensorInfo.elementCount(shape), dtype.byteSize());
            } catch (ArithmeticException ex) {
                throw new RoutecalException(where + ": shape " + t.get("shape") + " overflows");
            }
            if (end - begin != expected) {
                throw new RoutecalException(where + ": data_offsets [" + begin + ", " + end + "] hold " + (end - begin) + " bytes but shape "
                        + t.get("shape") + " × " + dtype + " needs " + expected + " (header/offset mismatch)");
            }
            if (end > dataLen) {
                throw new RoutecalException(where + ": data ends at byte " + (dataStart + end) + " but the file has only " + fileSize + " bytes (truncated?)");
            }
            tensors.put(name, new TensorInfo(name, dtype, shape, path, dataStart + begin, end - begin));
            ranges.add(new long[] {begin, end, names.size()});
            names.add(name);
        }
        checkTiling(path, ranges, names, dataLen);
        return new SafetensorsFile(path, ch, Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    /** Sorted by begin, tensors must be contiguous from 0 and cover the whole data section (as the reference checks). */
    private static void checkTiling(Path path, List<long[]> ranges, List<String> names, long dataLen) {
        ranges.sort(Comparator.<long[]>comparingLong(r -> r[0]).thenComparingLong(r -> r[1]));
        long expect = 0;
        String prev = null;
        for (long[] r : ranges) {
            String name = names.get((int) r[2]);
            if (r[0] < expect) {
                throw new RoutecalException(path + ": tensor '" + name + "' data_offsets [" + r[0] + ", " + r[1] + "] overlap tensor '" + prev + "' ending at " + expect);
            }
            if (r[0] > expect) {
                throw new RoutecalException(path + ": tensor '" + name + "' starts at data offset " + r[0] + " but the previous tensor"
                        + (prev == null ? "s end" : " '" + prev + "' ends") + " at " + expect + " (offsets not contiguous)");
            }
            expect = r[1];
            prev = name;
        }
        if (expect != dataLen) {
            throw new RoutecalException(path + ": tensors cover " + expect + " data bytes but the file holds " + dataLen + " after the header (trailing garbage or header/offset mismatch)");
        }
    }

    /** Maps {@code length} bytes (≤ 2 GB) at absolute {@code offset}, little-endian, read-only. */
    ByteBuffer map(long offset, long length, String tensor) {
        if (length > Integer.MAX_VALUE) {
            throw new RoutecalException(path + ": tensor '" + tensor + "': cannot map " + length + " bytes at once (> 2 GB); read it by rows");
        }
        try {
            MappedByteBuffer m = channel.map(FileChannel.MapMode.READ_ONLY, offset, length);
            return m.order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new RoutecalException(path + ": tensor '" + tensor + "': cannot map data: " + e.getMessage(), e);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) throw new IOException("unexpected end of file");
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try { ch.close(); } catch (IOException ignored) { /* already failing */ }
    }

    @Override
    public void close() {
        try { channel.close(); } catch (IOException ignored) { /* read-only channel */ }
    }
}
