package org.routecal.route;

import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.api.ReadSupport;
import org.apache.parquet.hadoop.api.WriteSupport;
import org.apache.parquet.hadoop.example.GroupReadSupport;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.io.api.RecordConsumer;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types;
import org.routecal.RoutecalException;
import org.routecal.io.AtomicFiles;
import org.routecal.io.safetensors.DTypeCodec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code routing.parquet}: one row per routed token, every MoE layer's top-k in two flat lists.
 *
 * <pre>
 * message routing {
 *   required int32 sample_index;                 // position of the sample in the run's samples.parquet
 *   required int32 position;                     // token position in the sample
 *   required int32 token_id;
 *   required int32 char_start;                   // UTF-16 span of the token in the sample text
 *   required int32 char_end;
 *   repeated int32 expert_ids (INTEGER(16,true));   // [layers × top_k], layer-major, by descending weight
 *   repeated int32 weights_bf16 (INTEGER(16,true)); // [layers × top_k] bf16 bit patterns of the routing weights
 * }
 * key/value metadata: format=routecal.routing, format_version=1, model_fingerprint, moe_layers (comma list of
 * decoder-layer indices), experts, top_k, weight_encoding=bf16
 * </pre>
 * Weights are stored as bf16 (round to nearest even): 3 significant digits are plenty for weighted statistics, and at
 * Qwen3-30B-A3B geometry they cost about half as much as float32 after ZSTD (see the route note for measurements).
 * Files are ZSTD-compressed and written to a temporary name, then renamed into place.
 */
public final class RoutingParquet {
    public static final String FORMAT = "routecal.routing";
    public static final int VERSION = 1;

    static final MessageType SCHEMA = Types.buildMessage()
            .required(PrimitiveTypeName.INT32).named("sample_index")
            .required(PrimitiveTypeName.INT32).named("position")
            .required(PrimitiveTypeName.INT32).named("token_id")
            .required(PrimitiveTypeName.INT32).named("char_start")
            .required(PrimitiveTypeName.INT32).named("char_end")
            .repeated(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(16, true)).named("expert_ids")
            .repeated(PrimitiveTypeName.INT32).as(LogicalTypeAnnotation.intType(16, true)).named("weights_bf16")
            .named("routing");

    /** What a routing file declares about itself. */
    public record Header(RoutingGeometry geometry, String modelFingerprint, long rows) {}

    private RoutingParquet() {}

    /** Streaming writer; rows appear in the file only after {@link #close()}. */
    public static final class Writer implements AutoCloseable {
        private final Path target, temp;
        private final RoutingGeometry geometry;
        private final ParquetWriter<Row> writer;
        private final Row row = new Row();
        private boolean closed;

        public Writer(Path target, RoutingGeometry geometry, String modelFingerprint) {
            this.target = target;
            this.geometry = geometry;
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", FORMAT);
            meta.put("format_version", String.valueOf(VERSION));
            meta.put("model_fingerprint", modelFingerprint);
            meta.put("moe_layers", joined(geometry.layerIndex()));
            meta.put("experts", String.valueOf(geometry.experts()));
            meta.put("top_k", String.valueOf(geometry.topK()));
            meta.put("weight_encoding", "bf16");
            try {
                this.temp = AtomicFiles.tempFile(target);
                writer = new Builder(new LocalOutputFile(temp), meta).withConf(new PlainParquetConfiguration())
                        .withCompressionCodec(CompressionCodecName.ZSTD)
                        .withWriteMode(org.apache.parquet.hadoop.ParquetFileWriter.Mode.OVERWRITE).build();
            } catch (IOException e) {
                throw new RoutecalException(target + ": cannot create routing file: " + e.getMessage(), e);
            }
        }

        /** Appends every token of a batch. */
        public void write(RoutingBatch batch) {
            if (!batch.geometry().equals(geometry)) {
                throw new RoutecalException(target + ": batch geometry " + batch.geometry() + " differs from the file's " + geometry);
            }
            row.batch = batch;
            try {
                for (int t = 0; t < batch.tokens(); t++) {
                    row.token = t;
                    writer.write(row);
                }
            } catch (IOException e) {
                throw new RoutecalException(target + ": write failed: " + e.getMessage(), e);
            }
        }

        @Override public void close() {
            if (closed) return;
            closed = true;
            try {
                writer.close();
                AtomicFiles.commit(temp, target);
            } catch (IOException e) {
                throw new RoutecalException(target + ": cannot finish routing file: " + e.getMessage(), e);
            }
        }
    }

    /** Reads the footer metadata and checks format and version. */
    public static Header header(Path file) {
        try (ParquetFileReader r = ParquetFileReader.open(input(file))) {
            Map<String, String> kv = r.getFooter().getFileMetaData().getKeyValueMetaData();
            return parseHeader(file, kv, r.getRecordCount());
        } catch (RoutecalException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new RoutecalException(file + ": not a readable Parquet file (truncated?): " + e.getMessage(), e);
        }
    }

    /** Streams the file in batches of at most {@code batchTokens} tokens. */
    public static Header read(Path file, int batchTokens, Consumer<RoutingBatch> sink) {
        Header h = header(file);
        RoutingGeometry g = h.geometry();
        int picks = g.picksPerToken();
        try (ParquetReader<Group> reader = new GroupReader(input(file)).build()) {
            Buffer buf = new Buffer(g, batchTokens);
            long row = 0;
            for (Group grp; (grp = reader.read()) != null; row++) {
                int n = grp.getFieldRepetitionCount(5);
                if (n != picks || grp.getFieldRepetitionCount(6) != picks) {
                    throw new RoutecalException(file + ": row " + row + " has " + n + " expert ids, expected " + picks
                            + " (layers × top_k); file corrupt or written for another geometry");
                }
                buf.add(grp);
                if (buf.tokens == batchTokens) sink.accept(buf.flush());
            }
            if (buf.tokens > 0) sink.accept(buf.flush());
        } catch (RoutecalException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new RoutecalException(file + ": read failed (truncated?): " + e.getMessage(), e);
        }
        return h;
    }

    static Header parseHeader(Path file, Map<String, String> kv, long rows) {
        String format = kv.get("format");
        if (!FORMAT.equals(format)) {
            throw new RoutecalException(file + ": metadata 'format' is " + format + ", expected " + FORMAT + " (not a routing file)");
        }
        int version = Integer.parseInt(kv.getOrDefault("format_version", "0"));
        if (version < 1) throw new RoutecalException(file + ": format_version " + version + " is too old (supported: 1)");
        if (version > VERSION) throw new RoutecalException(file + ": format_version " + version + " is newer than this routecal reads (1)");
        try {
            int[] layers = Arrays.stream(kv.get("moe_layers").split(",")).mapToInt(Integer::parseInt).toArray();
            RoutingGeometry g = new RoutingGeometry(layers, Integer.parseInt(kv.get("experts")), Integer.parseInt(kv.get("top_k")));
            return new Header(g, kv.get("model_fingerprint"), rows);
        } catch (RuntimeException e) {
            throw new RoutecalException(file + ": metadata moe_layers/experts/top_k missing or malformed: " + e.getMessage(), e);
        }
    }

    static InputFile input(Path file) {
        if (!Files.isRegularFile(file)) throw new RoutecalException(file + ": no such file");
        return new LocalInputFile(file);
    }

    private static String joined(int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) sb.append(i == 0 ? "" : ",").append(v[i]);
        return sb.toString();
    }

    /** The token the write support emits next. */
    private static final class Row {
        RoutingBatch batch;
        int token;
    }

    private static final class Builder extends ParquetWriter.Builder<Row, Builder> {
        private final Map<String, String> meta;

        Builder(LocalOutputFile file, Map<String, String> meta) {
            super(file);
            this.meta = meta;
        }

        @Override protected Builder self() { return this; }

        @Override protected WriteSupport<Row> getWriteSupport(org.apache.hadoop.conf.Configuration conf) { return new RowWriteSupport(meta); }

        @Override protected WriteSupport<Row> getWriteSupport(org.apache.parquet.conf.ParquetConfiguration conf) { return new RowWriteSupport(meta); }
    }

    private static final class RowWriteSupport extends WriteSupport<Row> {
        private final Map<String, String> meta;
        private RecordConsumer out;

        RowWriteSupport(Map<String, String> meta) { this.meta = meta; }

        @Override public WriteContext init(org.apache.hadoop.conf.Configuration conf) { return new WriteContext(SCHEMA, new HashMap<>(meta)); }

        @Override public WriteContext init(org.apache.parquet.conf.ParquetConfiguration conf) { return new WriteContext(SCHEMA, new HashMap<>(meta)); }

        @Override public void prepareForWrite(RecordConsumer recordConsumer) { this.out = recordConsumer; }

        @Override public void write(Row r) {
            RoutingBatch b = r.batch;
            int t = r.token, picks = b.geometry().picksPerToken(), base = t * picks;
            out.startMessage();
            field(0, "sample_index", b.sampleIndex()[t]);
            field(1, "position", b.position()[t]);
            field(2, "token_id", b.tokenId()[t]);
            field(3, "char_start", b.charStart()[t]);
            field(4, "char_end", b.charEnd()[t]);
            out.startField("expert_ids", 5);
            for (int i = 0; i < picks; i++) out.addInteger(b.expertIds()[base + i]);
            out.endField("expert_ids", 5);
            out.startField("weights_bf16", 6);
            for (int i = 0; i < picks; i++) out.addInteger(DTypeCodec.floatToBf16(b.weights()[base + i]));
            out.endField("weights_bf16", 6);
            out.endMessage();
        }

        private void field(int index, String name, int value) {
            out.startField(name, index);
            out.addInteger(value);
            out.endField(name, index);
        }
    }

    private static final class GroupReader extends ParquetReader.Builder<Group> {
        GroupReader(InputFile f) { super(f, new PlainParquetConfiguration()); }

        @Override protected ReadSupport<Group> getReadSupport() { return new GroupReadSupport(); }
    }

    /** Accumulates rows into a batch. */
    private static final class Buffer {
        final RoutingGeometry g;
        final int capacity, picks;
        int tokens;
        int[] sample, pos, tok, cs, ce;
        short[] ids;
        float[] w;

        Buffer(RoutingGeometry g, int capacity) {
            this.g = g;
            this.capacity = capacity;
            this.picks = g.picksPerToken();
            reset();
        }

        void reset() {
            tokens = 0;
            sample = new int[capacity];
            pos = new int[capacity];
            tok = new int[capacity];
            cs = new int[capacity];
            ce = new int[capacity];
            ids = new short[capacity * picks];
            w = new float[capacity * picks];
        }

        void add(Group r) {
            int t = tokens++;
            sample[t] = r.getInteger(0, 0);
            pos[t] = r.getInteger(1, 0);
            tok[t] = r.getInteger(2, 0);
            cs[t] = r.getInteger(3, 0);
            ce[t] = r.getInteger(4, 0);
            for (int i = 0; i < picks; i++) {
                ids[t * picks + i] = (short) r.getInteger(5, i);
                w[t * picks + i] = DTypeCodec.bf16ToFloat((short) r.getInteger(6, i));
            }
        }

        RoutingBatch flush() {
            int n = tokens;
            RoutingBatch b = new RoutingBatch(g, n, Arrays.copyOf(sample, n), Arrays.copyOf(pos, n), Arrays.copyOf(tok, n),
                    Arrays.copyOf(cs, n), Arrays.copyOf(ce, n), Arrays.copyOf(ids, n * picks), Arrays.copyOf(w, n * picks));
            reset();
            return b;
        }
    }
}
