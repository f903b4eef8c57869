package org.routecal.quant;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads the small reference fixtures under tests/fixtures/quant (safetensors: u64 header length, JSON header, data).
 * A deliberately independent minimal reader, so the quant proofs do not rest on our own safetensors code.
 */
public final class FixtureTensors {
    public static final Path DIR = locate();
    private final Map<String, JsonNode> infos = new LinkedHashMap<>();
    private final ByteBuffer data;

    private static Path locate() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null && !Files.isDirectory(p.resolve("tests/fixtures/quant"))) p = p.getParent();
        if (p == null) throw new IllegalStateException("tests/fixtures/quant not found above " + Path.of("").toAbsolutePath());
        return p.resolve("tests/fixtures/quant");
    }

    public FixtureTensors(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) b.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(all, 8, n, StandardCharsets.UTF_8));
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getKey().equals("__metadata__")) infos.put(e.getKey(), e.getValue());
        }
        data = ByteBuffer.wrap(all, 8 + n, all.length - 8 - n).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    public boolean has(String name) {
        return infos.containsKey(name);
    }

    public long[] shape(String name) {
        JsonNode s = infos.get(name).get("shape");
        long[] out = new long[s.size()];
        for (int i = 0; i < out.length; i++) out[i] = s.get(i).asLong();
        return out;
    }

    private ByteBuffer slice(String name) {
        JsonNode i = infos.get(name);
        if (i == null) throw new IllegalArgumentException("no tensor " + name);
        int start = i.get("data_offsets").get(0).asInt(), end = i.get("data_offsets").get(1).asInt();
        return data.duplicate().position(start).limit(end).slice().order(ByteOrder.LITTLE_ENDIAN);
    }

    public float[] floats(String name) {
        String dt = infos.get(name).get("dtype").asText();
        ByteBuffer b = slice(name);
        float[] out;
        switch (dt) {
            case "F32" -> { out = new float[b.remaining() / 4]; b.asFloatBuffer().get(out); }
            case "BF16" -> { out = new float[b.remaining() / 2]; for (int k = 0; k < out.length; k++) out[k] = Float.intBitsToFloat((b.getShort(2 * k) & 0xFFFF) << 16); }
            default -> throw new IllegalArgumentException(name + ": dtype " + dt);
        }
        return out;
    }

    public double[] doubles(String name) {
        if (infos.get(name) != null && infos.get(name).get("dtype").asText().equals("F64")) {
            ByteBuffer b = slice(name);
            double[] out = new double[b.remaining() / 8];
            b.asDoubleBuffer().get(out);
            return out;
        }
        float[] f = floats(name);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    public int[] ints(String name) {
        String dt = infos.get(name).get("dtype").asText();
        ByteBuffer b = slice(name);
        int[] out;
        switch (dt) {
            case "I32" -> { out = new int[b.remaining() / 4]; b.asIntBuffer().get(out); }
            case "I16" -> { out = new int[b.remaining() / 2]; for (int k = 0; k < out.length; k++) out[k] = b.getShort(2 * k); }
            case "I8" -> { out = new int[b.remaining()]; for (int k = 0; k < out.length; k++) out[k] = b.get(k); }
            case "U8" -> { out = new int[b.remaining()]; for (int k = 0; k < out.length; k++) out[k] = b.get(k) & 0xFF; }
            case "I64" -> { out = new int[b.remaining() / 8]; for (int k = 0; k < out.length; k++) out[k] = (int) b.getLong(8 * k); }
            default -> throw new IllegalArgumentException(name + ": dtype " + dt);
        }
        return out;
    }

    /** The cases.json index of the quant fixtures. */
    public static JsonNode cases() throws IOException {
        return new ObjectMapper().readTree(DIR.resolve("cases.json").toFile());
    }
}
