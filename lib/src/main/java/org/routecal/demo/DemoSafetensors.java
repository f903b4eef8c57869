package org.routecal.demo;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A minimal in-memory BF16 safetensors encoder for the demo checkpoint (a few MB). Tensors are laid out in name order,
 * the header is compact JSON padded with spaces to a multiple of 8 bytes, so the bytes depend only on the tensors.
 * (Temporary: the io area's streaming {@code SafetensorsWriter} replaces it once on main.)
 */
final class DemoSafetensors {
    private record Entry(long[] shape, byte[] data) {}

    private final TreeMap<String, Entry> tensors = new TreeMap<>();

    /** Adds a tensor from f32 values, rounded to BF16 (round to nearest even). */
    void addBf16(String name, long[] shape, float[] values) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) buf.putShort(toBf16(v));
        tensors.put(name, new Entry(shape.clone(), buf.array()));
    }

    static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7FFFFFFF) > 0x7F800000) return (short) ((bits >>> 16) | 0x40); // NaN stays a quiet NaN
        int rounding = 0x7FFF + ((bits >>> 16) & 1);
        return (short) ((bits + rounding) >>> 16);
    }

    static float fromBf16(short h) {
        return Float.intBitsToFloat((h & 0xFFFF) << 16);
    }

    byte[] toBytes() {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("__metadata__", Map.of("format", "pt"));
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            Map<String, Object> info = new LinkedHashMap<>();
            info.put("dtype", "BF16");
            List<Long> shape = new ArrayList<>();
            for (long d : e.getValue().shape()) shape.add(d);
            info.put("shape", shape);
            info.put("data_offsets", List.of(offset, offset + e.getValue().data().length));
            offset += e.getValue().data().length;
            header.put(e.getKey(), info);
        }
        StringBuilder json = new StringBuilder(new String(DemoJson.compact(header), StandardCharsets.UTF_8));
        while ((json.length() + 8) % 8 != 0) json.append(' ');
        byte[] head = json.toString().getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) (8 + head.length + offset));
        byte[] len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(head.length).array();
        out.writeBytes(len);
        out.writeBytes(head);
        for (Entry e : tensors.values()) out.writeBytes(e.data());
        return out.toByteArray();
    }
}
