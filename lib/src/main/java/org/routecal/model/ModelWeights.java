package org.routecal.model;

import org.routecal.model.family.ModelConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.RoutecalException;
import org.routecal.compute.Backend;
import org.routecal.compute.ExpertGroups;
import org.routecal.compute.Tensor;
import org.routecal.compute.TensorType;
import org.routecal.model.family.ExpertLayout;
import org.routecal.model.family.MoeFamily;

/**
 * A model's weights as tensors of its {@link Backend}, loaded by HF name from the (memory-mapped) source on first use
 * and kept in a byte-bounded LRU cache: resident when the model fits the budget, streamed layer by layer when it does
 * not (the forward pass is layer-major, so each weight crosses once per pass). Linear weights are stored in the
 * backend's weight type (BF16 for a bf16 pass on a GPU, F32 otherwise), handed to the backend as Linear weights
 * ({@link Backend#prepareLinearWeights}: the CPU packs them in panels); norms and biases as F32.
 *
 * <p>Shapes are checked against the config and values for NaN/Inf when a tensor is read; errors name the tensor and
 * the checkpoint. Overrides (dequantized quantized weights) take precedence over the source.
 */
public final class ModelWeights implements AutoCloseable {
    /** A Linear module: w [out, in] (HF layout), b [1, out] or null. */
    public record Linear(String module, Tensor w, Tensor b) {
        public int out() { return w.rowCount(); }

        public int in() { return w.cols(); }
    }

    /**
     * The routed experts of one MoE layer and the math every caller runs on them (the forward pass, calibration,
     * per-expert error), so an expert computes the same everywhere: gate/up (+ bias) → activation → down (+ bias).
     * gateUp.get(e) [2·I, H] (gate rows first, whatever the checkpoint's packing), down.get(e) [H, I]: views of stacks of
     * consecutive experts; on a GPU one contiguous [E·rows, cols] stack, which the grouped expert product requires
     * ({@link Backend#expertStackBytes}).
     *
     * @param gateUpBias [E, 2I] F32 (gate half first) or null; downBias [E, H] F32 or null (GPT-OSS)
     * @param activation silu·mul, or GPT-OSS's clamped SwiGLU with {@code swigluLimit}
     */
    public record Experts(List<Tensor> gateUp, List<Tensor> down, Tensor gateUpBias, Tensor downBias,
                          ExpertLayout.Activation activation, float swigluLimit) {

        public int intermediate() { return down.get(0).cols(); }

        /** out [rows, 2I] = x · W_guᵀ (+ bias) of each sorted row's expert; x in token order when {@code gather}. */
        public void gateUp(Backend b, Tensor x, boolean gather, ExpertGroups g, Tensor out) {
            b.groupedLinear(x, gather, g, gateUp, out);
            if (gateUpBias != null) b.addGroupedBias(out, g, gateUpBias);
        }

        /** The gated activation of gateUp [rows, 2I] into out [rows, I]. */
        public void activate(Backend b, Tensor gateUpOut, Tensor out) {
            if (activation == ExpertLayout.Activation.CLAMPED_SWIGLU) {
                b.clampedSwiglu(gateUpOut, ExpertLayout.Activation.GPT_OSS_ALPHA, swigluLimit, out);
            } else {
                b.siluMul(gateUpOut, out);
            }
        }

        /** y [rows, H] = a · W_downᵀ (+ bias) of each sorted row's expert. */
        public void down(Backend b, Tensor a, ExpertGroups g, Tensor y) {
            b.groupedLinear(a, false, g, down, y);
            if (downBias != null) b.addGroupedBias(y, g, downBias);
        }

        /** One expert's activation a [rows, I] (the down projection's input) of input rows x [rows, H]; the caller closes it. */
        public Tensor activation(Backend b, int expert, Tensor x) {
            int inter = intermediate();
            try (Tensor gu = b.allocate(TensorType.F32, x.rows(), 2 * inter, "expert gate_up")) {
                b.linear(x, gateUp.get(expert), gateUpBias == null ? null : gateUpBias.rows(expert, expert + 1), gu, false);
                Tensor a = b.allocate(TensorType.F32, x.rows(), inter, "expert act");
                activate(b, gu, a);
                return a;
            }
        }

        /** Experts [from, to) as a stack of their own (grouped products index their experts from 0). */
        public Experts range(int from, int to) {
            return new Experts(gateUp.subList(from, to), down.subList(from, to), gateUpBias == null ? null : gateUpBias.rows(from, to),
                    downBias == null ? null : downBias.rows(from, to), activation, swigluLimit);
        }
    }

    private final TensorSource source;
    private final ModelConfig config;
    private final Backend backend;
    private final TensorType linearType;
    private final long budgetBytes;
    private final Map<String, float[]> overrides = new HashMap<>();
    // The bookkeeping below is guarded by this object's monitor: an access-ordered LinkedHashMap changes on every get,
    // and two unsynchronized readers (serve with --max-concurrent 2) once corrupted it into a cycle that releaseAll
    // then walked forever. Forward passes over one model still run one at a time (ServedModel serializes them).
    private final LinkedHashMap<String, Tensor> cache = new LinkedHashMap<>(64, 0.75f, true);
    private final Map<String, Object> pinned = new HashMap<>(); // keys in use by the running layer: never evicted
    private final Map<String, List<Placement>> placements = new HashMap<>(); // source name → cached tensors holding it
    private final java.util.Set<String> dirty = new java.util.HashSet<>();  // cache keys patched by overrides
    private final Map<String, PackedExperts.Slice> exported = new HashMap<>(); // packed families: per-expert export name → its slice
    private PackedExperts packedLayer;   // the last packed layer read (one layer's experts are sliced together)
    private int packedLayerIndex = -1;
    private long cachedBytes;
    private long loadedBytes;

    /**
     * @param linearType  element type of Linear weights and expert stacks on the backend
     * @param budgetBytes bytes of weights kept resident; least recently used tensors beyond it are released
     */
    public ModelWeights(TensorSource source, ModelConfig config, Backend backend, TensorType linearType, long budgetBytes) {
        this.source = source;
        this.config = config;
        this.backend = backend;
        this.linearType = linearType;
        this.budgetBytes = budgetBytes;
        if (config.family().experts().packed3d() && !CheckpointLayout.expertsExported(config, source)) {
            MoeFamily.Tensors t = config.family().tensors();
            for (int l = 0; l < config.layerCount(); l++) {
                if (!config.isMoeLayer(l)) continue;
                for (int e = 0; e < config.expertCount(); e++) {
                    exported.put(MoeFamily.name(t.exportExpertGate(), l, e) + ".weight", new PackedExperts.Slice(l, e, PackedExperts.Projection.GATE));
                    exported.put(MoeFamily.name(t.exportExpertUp(), l, e) + ".weight", new PackedExperts.Slice(l, e, PackedExperts.Projection.UP));
                    exported.put(MoeFamily.name(t.exportExpertDown(), l, e) + ".weight", new PackedExperts.Slice(l, e, PackedExperts.Projection.DOWN));
                }
            }
        }
    }

    public TensorSource source() { return source; }

    public Backend backend() { return backend; }

    public TensorType linearType() { return linearType; }

    /** Bytes uploaded to the backend so far (a streamed pass moves each layer's bytes once). */
    public long loadedBytes() { return loadedBytes; }

    public long cachedBytes() { return cachedBytes; }

    public synchronized boolean contains(String name) { return overrides.containsKey(name) || source.contains(name) || exported.containsKey(name); }

    /**
     * A tensor's shape: the source's, or for a packed family's per-expert export name (e.g.
     * {@code mlp.experts.3.gate_proj.weight}) the Linear shape its slice of the packed tensor has.
     */
    public long[] shape(String name) {
        PackedExperts.Slice s = exported.get(name);
        if (s == null) return source.shape(name);
        long h = config.hiddenSize(), i = config.expertIntermediateSize();
        return s.projection() == PackedExperts.Projection.DOWN ? new long[]{h, i} : new long[]{i, h};
    }

    // ---- overrides ------------------------------------------------------------------------------------------------

    /**
     * Replaces a tensor's values for every later forward call (shape must match the source's), e.g. a quantized
     * weight dequantized. Backend tensors that already hold it (a matrix, a fused gate/up, an expert stack) are patched
     * in place, so a quantized layer costs no second copy of its weights; otherwise the values wait on the host for the
     * next load. {@link #clearOverrides()} drops both.
     */
    public synchronized void override(String name, float[] values) {
        if (source.contains(name) || exported.containsKey(name)) {
            long n = Arrays.stream(shape(name)).reduce(1, Math::multiplyExact);
            if (n != values.length) throw new RoutecalException("override of " + name + ": " + values.length + " values, tensor has " + n);
        }
        boolean patched = false;
        for (Placement p : placements.getOrDefault(name, List.of())) {
            Tensor t = cache.get(p.key());
            if (t == null || t.isClosed()) continue;
            backend.write(t, p.row(), values);
            dirty.add(p.key());
            patched = true;
        }
        if (!patched) overrides.put(name, values);
    }

    /** Forgets every override: patched tensors are released and reload from the source on next use. */
    public synchronized void clearOverrides() {
        for (String key : dirty) {
            Tensor t = cache.remove(key);
            if (t != null) {
                cachedBytes -= t.bytes();
                t.close();
            }
        }
        dirty.clear();
        overrides.clear();
    }

    /** Where a source tensor sits inside a cached backend tensor: cache key and first row. */
    private record Placement(String key, long row) {}

    private synchronized void place(String name, String key, long row) {
        List<Placement> list = placements.computeIfAbsent(name, n -> new ArrayList<>());
        for (Placement p : list) if (p.key().equals(key)) return;
        list.add(new Placement(key, row));
    }

    /** Host values of a tensor as float32 (override, source, or a packed expert's slice), shape-checked. */
    public float[] hostValues(String name, long... expected) {
        float[] o;
        synchronized (this) { o = overrides.get(name); }
        if (o != null) return o;
        PackedExperts.Slice slice = exported.get(name);
        if (slice != null) {
            if (!Arrays.equals(shape(name), expected)) {
                throw new RoutecalException(source.describe() + ": " + name + " is " + Arrays.toString(shape(name)) + ", not " + Arrays.toString(expected));
            }
            return packed(slice.layer()).weight(slice.expert(), slice.projection());
        }
        if (!source.contains(name)) throw new RoutecalException(source.describe() + ": tensor " + name + " is missing");
        long[] shape = source.shape(name);
        if (!Arrays.equals(shape, expected)) {
            throw new RoutecalException(source.describe() + ": tensor " + name + " has shape " + Arrays.toString(shape)
                    + " but the config implies " + Arrays.toString(expected));
        }
        float[] values = source.readFloat(name);
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new RoutecalException(source.describe() + ": tensor " + name + " contains " + values[i]
                        + " at flat index " + i + " (corrupt or overflowed weights)");
            }
        }
        return values;
    }

    /**
     * The stored bytes of a plain BF16 or F32 tensor with no override, so it can go to the backend without a float32
     * detour (a 61 GB checkpoint decodes at host speed otherwise); null when it has to be decoded. The shape is checked
     * and bf16/f32 NaN/Inf are refused as {@link #hostValues} does.
     */
    private RawTensor raw(String name, long... expected) {
        TensorType t = plainType(name, expected);
        return t == null ? null : readRaw(name, t);
    }

    /** BF16 or F32 when the tensor can go to the backend as stored bytes (no override, plain encoding, expected shape). */
    private TensorType plainType(String name, long... expected) {
        synchronized (this) {
            if (overrides.containsKey(name) || !source.contains(name)) return null;
        }
        if (source.storedForm(name).encoding() != StoredForm.Encoding.PLAIN) return null;
        String d = source.dtype(name);
        TensorType t = d.equals("BF16") ? TensorType.BF16 : d.equals("F32") ? TensorType.F32 : null;
        if (t == null) return null;
        return Arrays.equals(source.shape(name), expected) ? t : null; // hostValues reports a wrong shape
    }

    /** The stored bytes, or null when a value is NaN/Inf (hostValues names it). Takes no lock. */
    private RawTensor readRaw(String name, TensorType t) {
        ByteBuffer b = ByteBuffer.wrap(source.readStored(name)).order(ByteOrder.LITTLE_ENDIAN);
        return allFinite(b, t) ? new RawTensor(b, t) : null;
    }

    private record RawTensor(ByteBuffer bytes, TensorType type) {}

    private static final jdk.incubator.vector.VectorSpecies<Short> SHORTS = jdk.incubator.vector.ShortVector.SPECIES_PREFERRED;

    /** No NaN or Inf among the little-endian BF16/F32 values of b: bulk copies in chunks, bf16 exponents tested as vectors. */
    static boolean allFinite(ByteBuffer b, TensorType t) {
        int n = b.remaining() / t.bytes();
        if (t == TensorType.F32) {
            var fb = b.asFloatBuffer();
            float[] chunk = new float[Math.min(n, 1 << 16)];
            for (int done = 0; done < n; done += chunk.length) {
                int m = Math.min(chunk.length, n - done);
                fb.get(chunk, 0, m);
                for (int i = 0; i < m; i++) if (!Float.isFinite(chunk[i])) return false;
            }
            return true;
        }
        var sb = b.asShortBuffer();
        short[] chunk = new short[Math.min(n, 1 << 16)];
        jdk.incubator.vector.ShortVector exp = jdk.incubator.vector.ShortVector.broadcast(SHORTS, (short) 0x7f80);
        for (int done = 0; done < n; done += chunk.length) {
            int m = Math.min(chunk.length, n - done), i = 0;
            sb.get(chunk, 0, m);
            for (int bound = SHORTS.loopBound(m); i < bound; i += SHORTS.length()) {
                if (jdk.incubator.vector.ShortVector.fromArray(SHORTS, chunk, i).and(exp).eq(exp).anyTrue()) return false;
            }
            for (; i < m; i++) if ((chunk[i] & 0x7f80) == 0x7f80) return false;
        }
        return true;
    }

    /** Writes a source tensor into rows of a backend tensor: raw bytes when possible, decoded floats otherwise. */
    private void put(Tensor dst, long row, String name, long... shape) {
        RawTensor r = raw(name, shape);
        if (r != null) backend.writeRaw(dst, row, r.bytes(), r.type());
        else backend.write(dst, row, hostValues(name, shape));
    }

    /** One source tensor's place in a backend tensor being loaded. */
    private record Part(Tensor dst, long row, String name, long rows, long cols) {}

    /**
     * Writes source tensors into rows of backend tensors (a layer's experts: hundreds of parts). Where the
     * backend takes host writes into disjoint rows from several threads (the CPU), the plain BF16/F32 parts are read,
     * checked and written in parallel, and the rest (overrides, other encodings, a bad value to report) after, here.
     * Runs inside {@link #cached} under this object's monitor, so the parallel part must never take it.
     */
    private void putAll(List<Part> parts) {
        if (!backend.concurrentHostWrites() || parts.size() < 2) {
            for (Part p : parts) put(p.dst(), p.row(), p.name(), p.rows(), p.cols());
            return;
        }
        TensorType[] plain = new TensorType[parts.size()];
        for (int i = 0; i < plain.length; i++) plain[i] = plainType(parts.get(i).name(), parts.get(i).rows(), parts.get(i).cols());
        boolean[] written = new boolean[plain.length];
        java.util.stream.IntStream.range(0, plain.length).parallel().forEach(i -> { // host work: the common pool
            if (plain[i] == null) return;
            RawTensor r = readRaw(parts.get(i).name(), plain[i]);
            if (r == null) return;
            backend.writeRaw(parts.get(i).dst(), parts.get(i).row(), r.bytes(), r.type());
            written[i] = true;
        });
        for (int i = 0; i < plain.length; i++) {
            Part p = parts.get(i);
            if (!written[i]) backend.write(p.dst(), p.row(), hostValues(p.name(), p.rows(), p.cols()));
        }
    }

    // ---- backend tensors ------------------------------------------------------------------------------------------

    /** A norm weight or bias [n] as an F32 [1, n] tensor. */
    public Tensor vector(String name, int n) {
        String key = "v|" + name;
        place(name, key, 0); // so an override (an AWQ-folded norm) patches the cached vector too
        return cached(key, () -> backend.upload(hostValues(name, n), 1, n, TensorType.F32, name));
    }

    /** A constant F32 vector [1, n] of {@code value}, e.g. the unit weight of a weightless norm; cached like a weight. */
    public Tensor constant(String key, int n, float value) {
        return cached("c|" + key + "|" + n + "|" + value, () -> {
            float[] v = new float[n];
            Arrays.fill(v, value);
            return backend.upload(v, 1, n, TensorType.F32, key);
        });
    }

    /** A matrix [rows, cols] in the Linear weight type (the embedding table too). */
    public Tensor matrix(String name, int rows, int cols) {
        String key = "m|" + name;
        place(name, key, 0);
        return cached(key, () -> {
            Tensor t = backend.allocate(linearType, rows, cols, name);
            put(t, 0, name, rows, cols);
            return backend.prepareLinearWeights(t, rows);
        });
    }

    /** A Linear module by its template, e.g. {@code model.layers.{layer}.self_attn.q_proj}. */
    public Linear linear(String template, int layer, int expert, int out, int in, boolean bias) {
        String module = MoeFamily.name(template, layer, expert);
        Tensor w = matrix(module + ".weight", out, in);
        Tensor b = bias ? vector(module + ".bias", out) : null;
        return new Linear(module, w, b);
    }

    /** gate and up of a SwiGLU MLP fused into one [2·inter, hidden] weight (gate rows first): one product, then siluMul. */
    public Tensor fusedGateUp(String gateModule, String upModule, int inter, int hidden) {
        String g = gateModule + ".weight", u = upModule + ".weight", key = "gu|" + g;
        place(g, key, 0);
        place(u, key, inter);
        return cached(key, () -> {
            Tensor t = backend.allocate(linearType, 2L * inter, hidden, gateModule + "+up");
            put(t, 0, g, inter, hidden);
            put(t, inter, u, inter, hidden);
            return backend.prepareLinearWeights(t, 2 * inter);
        });
    }

    /** The routed experts of one MoE layer (see {@link Experts}). */
    public Experts experts(int layer) {
        return experts(config.family().tensors(), layer, config.expertCount(), config.expertIntermediateSize(), config.hiddenSize());
    }

    /**
     * The routed experts of one MoE layer (see {@link Experts}), per-expert 2-D Linears by the table's expert names,
     * or a packed family's experts sliced out of its 3-D tensors ({@link PackedExperts}; a quantized checkpoint of a
     * packed family stores them under the per-expert export names instead, read like 2-D experts).
     */
    public Experts experts(MoeFamily.Tensors names, int layer, int experts, int inter, int hidden) {
        ExpertLayout layout = config.family().experts();
        boolean packed = layout.packed3d(), perExpertNames = !packed || exported.isEmpty();
        String gateT = packed ? names.exportExpertGate() : names.expertGate(), upT = packed ? names.exportExpertUp() : names.expertUp();
        String downT = packed ? names.exportExpertDown() : names.expertDown();
        List<String> keys = new ArrayList<>();
        List<String> downKeys = new ArrayList<>();
        for (int e = 0; e < experts; e++) {
            keys.add(MoeFamily.name(gateT, layer, e) + ".weight");
            keys.add(MoeFamily.name(upT, layer, e) + ".weight");
            downKeys.add(MoeFamily.name(downT, layer, e) + ".weight");
        }
        List<Tensor> gu = cachedExperts("eg|" + layer + "|", "layer " + layer + " experts %d-%d gate_up", experts, 2 * inter, hidden,
                e -> List.of(keys.get(2 * e), keys.get(2 * e + 1)));
        List<Tensor> dn = cachedExperts("ed|" + layer + "|", "layer " + layer + " experts %d-%d down", experts, hidden, inter,
                e -> List.of(downKeys.get(e)));
        Tensor guBias = null, downBias = null;
        if (layout.bias()) {
            guBias = cached("ebg|" + layer, () -> {
                float[] b = new float[experts * 2 * inter];
                for (int e = 0; e < experts; e++) {
                    System.arraycopy(expertBias(names, layer, e, PackedExperts.Projection.GATE, perExpertNames, keys.get(2 * e), inter), 0, b, e * 2 * inter, inter);
                    System.arraycopy(expertBias(names, layer, e, PackedExperts.Projection.UP, perExpertNames, keys.get(2 * e + 1), inter), 0, b,
                            e * 2 * inter + inter, inter);
                }
                return backend.upload(b, experts, 2 * inter, TensorType.F32, "layer " + layer + " experts gate_up bias");
            });
            downBias = cached("ebd|" + layer, () -> {
                float[] b = new float[experts * hidden];
                for (int e = 0; e < experts; e++) {
                    System.arraycopy(expertBias(names, layer, e, PackedExperts.Projection.DOWN, perExpertNames, downKeys.get(e), hidden), 0, b, e * hidden, hidden);
                }
                return backend.upload(b, experts, hidden, TensorType.F32, "layer " + layer + " experts down bias");
            });
        }
        return new Experts(gu, dn, guBias, downBias, layout.activation(), config.swigluLimit());
    }

    /** One expert projection's bias: the per-expert Linear's {@code .bias}, or its slice of the packed bias. */
    private float[] expertBias(MoeFamily.Tensors names, int layer, int expert, PackedExperts.Projection p, boolean perExpertNames,
                               String weightName, int n) {
        if (perExpertNames) return hostValues(weightName.substring(0, weightName.length() - ".weight".length()) + ".bias", n);
        return packed(layer).bias(expert, p);
    }

    /**
     * The name of expert {@code expert}'s projection weight as {@link #hostValues} and {@link #override} take it: the
     * table's per-expert name, or for a packed family its per-expert export name (a slice of the 3-D tensor).
     */
    public String expertWeightName(int layer, int expert, PackedExperts.Projection p) {
        MoeFamily.Tensors t = config.family().tensors();
        boolean packed = config.family().experts().packed3d();
        String template = switch (p) {
            case GATE -> packed ? t.exportExpertGate() : t.expertGate();
            case UP -> packed ? t.exportExpertUp() : t.expertUp();
            case DOWN -> packed ? t.exportExpertDown() : t.expertDown();
        };
        return MoeFamily.name(template, layer, expert) + ".weight";
    }

    /** The packed experts of {@code layer} (its biases; weights are read per expert), kept while its experts load. */
    private synchronized PackedExperts packed(int layer) {
        if (packedLayerIndex != layer) {
            packedLayer = null; // let the previous layer's arrays go before reading the next
            packedLayer = PackedExperts.of(config, source, layer);
            packedLayerIndex = layer;
        }
        return packedLayer;
    }

    private interface Loader { Tensor load(); }

    private synchronized Tensor cached(String key, Loader loader) {
        Tensor t = cache.get(key);
        if (t != null && !t.isClosed()) return t;
        t = loader.load();
        cache.put(key, t);
        cachedBytes += t.bytes();
        loadedBytes += t.bytes();
        pinned.put(key, Boolean.TRUE);
        evict();
        return t;
    }

    /**
     * One [rows, cols] view per expert into stacks of consecutive experts, each stack at most
     * {@link Backend#expertStackBytes} (a GPU: one stack per layer; the CPU: ~256 MB stacks, so no layer-sized array)
     * and cached under {@code keyPrefix + stack}. The missing stacks load together, their parts written in parallel
     * ({@link #putAll}); each expert's source tensors fill its rows in order (gate then up), {@code rows / parts} rows
     * each. Stacks already cached are pinned like loaded ones, so loading the rest of the layer cannot evict them.
     */
    private synchronized List<Tensor> cachedExperts(String keyPrefix, String nameFormat, int experts, long rows, int cols,
                                                    java.util.function.IntFunction<List<String>> sourcesOf) {
        ExpertStacks layout = ExpertStacks.of(backend, linearType, experts, rows, cols);
        Tensor[] stack = new Tensor[layout.stacks()];
        boolean[] fresh = new boolean[stack.length];
        List<Part> parts = new ArrayList<>();
        try {
            for (int s = 0; s < stack.length; s++) {
                String key = keyPrefix + s;
                int first = layout.first(s), count = layout.count(s);
                for (int e = first; e < first + count; e++) {
                    List<String> sources = sourcesOf.apply(e);
                    long partRows = rows / sources.size();
                    for (int i = 0; i < sources.size(); i++) place(sources.get(i), key, layout.rowIn(e) + i * partRows);
                }
                Tensor t = cache.get(key);
                if (t != null && !t.isClosed()) {
                    pinned.put(key, Boolean.TRUE);
                    stack[s] = t;
                    continue;
                }
                stack[s] = backend.allocate(linearType, count * rows, cols, String.format(nameFormat, first, first + count - 1));
                fresh[s] = true;
                for (int e = first; e < first + count; e++) {
                    List<String> sources = sourcesOf.apply(e);
                    long partRows = rows / sources.size();
                    for (int i = 0; i < sources.size(); i++) parts.add(new Part(stack[s], layout.rowIn(e) + i * partRows, sources.get(i), partRows, cols));
                }
            }
            putAll(parts);
        } catch (RuntimeException | Error failure) {
            for (int s = 0; s < stack.length; s++) if (fresh[s]) stack[s].close();
            throw failure;
        }
        for (int s = 0; s < stack.length; s++) {
            if (!fresh[s]) continue;
            Tensor t = backend.prepareLinearWeights(stack[s], Math.toIntExact(rows));
            stack[s] = t;
            cache.put(keyPrefix + s, t);
            cachedBytes += t.bytes();
            loadedBytes += t.bytes();
            pinned.put(keyPrefix + s, Boolean.TRUE);
        }
        evict();
        return layout.views(stack);
    }

    /** Marks the start of a layer: tensors loaded from here on are kept until the next call (never evicted mid-layer). */
    public synchronized void beginLayer() {
        pinned.clear();
        packedLayer = null; // a layer's packed experts are read again only if that layer's slices are asked for again
        packedLayerIndex = -1;
    }

    private void evict() {
        var it = cache.entrySet().iterator();
        while (cachedBytes > budgetBytes && it.hasNext()) {
            var e = it.next();
            if (pinned.containsKey(e.getKey())) continue;
            if (dirty.remove(e.getKey())) keepOverrides(e.getKey(), e.getValue());
            cachedBytes -= e.getValue().bytes();
            e.getValue().close();
            it.remove();
        }
    }

    /**
     * A tensor patched by overrides is about to leave the cache: its patched values go back to the host overrides, so
     * the next load reads them, not the source (an evicted quantized layer must stay quantized).
     */
    private void keepOverrides(String key, Tensor t) {
        for (Map.Entry<String, List<Placement>> e : placements.entrySet()) {
            for (Placement p : e.getValue()) {
                if (!p.key().equals(key) || overrides.containsKey(e.getKey())) continue;
                long n = Arrays.stream(shape(e.getKey())).reduce(1, Math::multiplyExact);
                long rows = n / t.cols();
                try (Tensor slice = t.rows(p.row(), p.row() + rows)) {
                    overrides.put(e.getKey(), backend.download(slice));
                }
            }
        }
    }

    /** Releases every cached tensor (the source stays open). */
    public synchronized void releaseAll() {
        for (Tensor t : cache.values()) t.close();
        cache.clear();
        cachedBytes = 0;
    }

    @Override
    public void close() {
        releaseAll();
        try {
            source.close();
        } catch (Exception e) {
            throw new RoutecalException("closing " + source.describe() + ": " + e.getMessage(), e);
        }
    }
}
