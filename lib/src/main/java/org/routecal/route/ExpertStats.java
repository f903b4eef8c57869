package org.routecal.route;

import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableWriter;
import tech.tablesaw.api.BooleanColumn;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.Table;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-(layer, expert) statistics, as a Tablesaw table and as {@code expert_stats.parquet}:
 * <pre>
 * layer, expert: int32 (decoder-layer index, expert id)
 * count: int64 picks; share: double count / picks of the layer; weight_sum: double Σ routing weight
 * target, deficit: int64 (deficit = max(0, target − count))
 * sensitivity_ref: double (reference max|w|/median|w| score; NaN when no projection is ≥ 128 wide)
 * rtn_error, rtn_error_gate_proj, rtn_error_up_proj, rtn_error_down_proj: double (relative RTN W4 g128 output error on
 *     routed inputs; NaN when the expert saw no token or the measurement was off)
 * frequent, scarce, robust, sensitive: boolean (slot-set membership under the run's ranking and thresholds)
 * count_&lt;domain&gt;: int64 per domain (domain names reduced to [A-Za-z0-9_])
 * metadata: format=routecal.expert_stats, format_version=1, model_fingerprint, domains (comma list, original names)
 * </pre>
 */
final class ExpertStats {
    static final String FORMAT = "routecal.expert_stats";
    static final int VERSION = 1;

    private final Table table;
    private final List<String> domains;
    private final List<String> domainColumns;

    ExpertStats(ExpertCounts counts, double[] sensitivity, double[] rtnError, double[][] rtnByProj, long target,
                SlotSets balance, SlotSets qSens) {
        RoutingGeometry g = counts.geometry();
        this.domains = counts.domains();
        IntColumn layer = IntColumn.create("layer"), expert = IntColumn.create("expert");
        LongColumn count = LongColumn.create("count"), tgt = LongColumn.create("target"), deficit = LongColumn.create("deficit");
        DoubleColumn share = DoubleColumn.create("share"), wsum = DoubleColumn.create("weight_sum"),
                sens = DoubleColumn.create("sensitivity_ref"), rtn = DoubleColumn.create("rtn_error");
        DoubleColumn[] rtnP = new DoubleColumn[3];
        for (int p = 0; p < 3; p++) rtnP[p] = DoubleColumn.create("rtn_error_" + ExpertErrorTap.PROJ[p]);
        BooleanColumn freq = BooleanColumn.create("frequent"), scarce = BooleanColumn.create("scarce"),
                robust = BooleanColumn.create("robust"), sensitive = BooleanColumn.create("sensitive");
        LongColumn[] perDomain = new LongColumn[domains.size()];
        this.domainColumns = new ArrayList<>();
        for (int d = 0; d < perDomain.length; d++) {
            String name = domainColumn(domains.get(d), d);
            if (domainColumns.contains(name)) name = name + "_" + d; // "a-b" and "a_b" would collide
            domainColumns.add(name);
            perDomain[d] = LongColumn.create(name);
        }
        long[] c = counts.counts();
        double[] ws = counts.weightSums();
        long[][] dc = new long[domains.size()][];
        for (int d = 0; d < dc.length; d++) dc[d] = counts.domainCounts(d);
        for (int l = 0; l < g.layers(); l++) {
            long layerPicks = 0;
            for (int e = 0; e < g.experts(); e++) layerPicks += c[g.slot(l, e)];
            for (int e = 0; e < g.experts(); e++) {
                int s = g.slot(l, e);
                layer.append(g.layerIndex()[l]);
                expert.append(e);
                count.append(c[s]);
                share.append(layerPicks == 0 ? Double.NaN : (double) c[s] / layerPicks);
                wsum.append(ws[s]);
                tgt.append(target);
                deficit.append(Math.max(0, target - c[s]));
                sens.append(sensitivity[s]);
                rtn.append(rtnError[s]);
                for (int p = 0; p < 3; p++) rtnP[p].append(rtnByProj[p][s]);
                freq.append(balance.inY(s));
                scarce.append(balance.inX(s));
                robust.append(qSens.inY(s));
                sensitive.append(qSens.inX(s));
                for (int d = 0; d < perDomain.length; d++) perDomain[d].append(dc[d][s]);
            }
        }
        table = Table.create("expert_stats", layer, expert, count, share, wsum, tgt, deficit, sens, rtn, rtnP[0], rtnP[1], rtnP[2],
                freq, scarce, robust, sensitive);
        table.addColumns(perDomain);
    }

    Table table() { return table; }

    void write(Path file, String fingerprint) {
        ParquetSchema.Builder b = ParquetSchema.builder("expert_stats").int32("layer").int32("expert").int64("count").float64("share")
                .float64("weight_sum").int64("target").int64("deficit").float64("sensitivity_ref").float64("rtn_error");
        for (String p : ExpertErrorTap.PROJ) b.float64("rtn_error_" + p);
        b.bool("frequent").bool("scarce").bool("robust").bool("sensitive");
        for (String name : domainColumns) b.int64(name);
        ParquetSchema schema = b.build();
        try (ParquetTableWriter w = ParquetTableWriter.create(file, schema, FORMAT, VERSION,
                Map.of("model_fingerprint", fingerprint, "domains", String.join(",", domains)))) {
            int cols = table.columnCount();
            for (int r = 0; r < table.rowCount(); r++) {
                Object[] row = new Object[cols];
                // DoubleColumn.get() turns NaN into null (Tablesaw's missing value); the file keeps NaN
                for (int k = 0; k < cols; k++) row[k] = table.column(k) instanceof DoubleColumn dc ? (Object) dc.getDouble(r) : table.column(k).get(r);
                w.append(row);
            }
        }
    }

    /** Column name of a domain's counts: count_ + the name reduced to [A-Za-z0-9_] (index appended if that empties it). */
    static String domainColumn(String domain, int index) {
        String clean = domain.replaceAll("[^A-Za-z0-9_]", "_");
        return "count_" + (clean.replace("_", "").isEmpty() ? "domain" + index : clean);
    }
}
