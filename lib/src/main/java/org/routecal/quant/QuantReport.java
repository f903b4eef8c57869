package org.routecal.quant;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.routecal.quant.report.FlatParquet;
import org.routecal.quant.report.FlatParquet.Column;
import org.routecal.quant.report.FlatParquet.Kind;

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
    public static final List<Column> COLUMNS = List.of(new Column("module", Kind.STRING), new Column("layer", Kind.INT32),
            new Column("expert", Kind.INT32), new Column("role", Kind.STRING), new Column("algorithm", Kind.STRING),
            new Column("hessian", Kind.STRING), new Column("tokens_routed", Kind.INT64), new Column("tokens_all", Kind.INT64),
            new Column("fallback", Kind.STRING), new Column("dead_columns", Kind.INT32), new Column("gptq_loss", Kind.DOUBLE),
            new Column("rel_error_diag", Kind.DOUBLE), new Column("seconds", Kind.DOUBLE));

    static Object[] row(LinearModules.Module m, String algorithm, String hessian, long routed, long all, String fallback,
                        int dead, Double loss, double relError, double seconds) {
        return new Object[]{m.module(), m.layer(), m.expert(), m.role().name().toLowerCase(), algorithm, hessian, routed, all,
                fallback, dead, loss, relError, seconds};
    }

    public static void write(Path file, List<Object[]> rows) {
        FlatParquet.write(file, COLUMNS, rows, Map.of("format", FORMAT, "format_version", "1"));
    }

    public static FlatParquet.Table read(Path file) {
        FlatParquet.Table t = FlatParquet.read(file);
        String f = t.metadata().get("format");
        if (!FORMAT.equals(f)) throw new org.routecal.RoutecalException(file + ": metadata 'format' is " + f + ", expected " + FORMAT);
        int v = Integer.parseInt(t.metadata().getOrDefault("format_version", "0"));
        if (v != 1) throw new org.routecal.RoutecalException(file + ": format_version " + v + " not supported (1)");
        return t;
    }
}
