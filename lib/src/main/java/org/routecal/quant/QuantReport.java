package org.routecal.quant;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.io.parquet.ParquetTableWriter;
import org.routecal.io.parquet.Row;

/**
 * quant_report.parquet (format routecal.quant-report, version 1): one row per quantized module —
 * module, layer, expert (-1 outside the routed experts), role, algorithm (gptq|rtn), hessian (routed|all|weighted|
 * hybrid|plain|none: what the Hessian was built from), tokens_routed, tokens_all, fallback (none|all|rtn|
 * cholesky_rtn), dead_columns, gptq_loss (null for RTN), rel_error_diag (Σ ΔW²·H_jj / Σ W²·H_jj; plain relative
 * Frobenius error when there is no Hessian), seconds.
 */
public final class QuantReport {
    private QuantReport() {}

    public static final String FORMAT = "routecal.quant-report";
    public static final int VERSION = 1;
    public static final ParquetSchema SCHEMA = ParquetSchema.builder("quant_report").string("module").int32("layer").int32("expert")
            .string("role").string("algorithm").string("hessian").int64("tokens_routed").int64("tokens_all").string("fallback")
            .int32("dead_columns").float64("gptq_loss").nullable().float64("rel_error_diag").float64("seconds").build();

    static Object[] row(LinearModules.Module m, String algorithm, String hessian, long routed, long all, String fallback,
                        int dead, Double loss, double relError, double seconds) {
        return new Object[]{m.module(), m.layer(), m.expert(), m.role().name().toLowerCase(), algorithm, hessian, routed, all,
                fallback, dead, loss, relError, seconds};
    }

    public static void write(Path file, List<Object[]> rows) {
        try (ParquetTableWriter w = ParquetTableWriter.create(file, SCHEMA, FORMAT, VERSION, Map.of())) {
            for (Object[] r : rows) w.append(r);
        }
    }

    /** Every row; the file's format and version are checked. */
    public static List<Row> read(Path file) {
        return ParquetTableReader.open(file).requireFormat(FORMAT, VERSION, VERSION).readAll();
    }
}
