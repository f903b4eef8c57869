package org.routecal.quant;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.routecal.io.parquet.ParquetSchema;
import org.routecal.io.parquet.ParquetTableReader;
import org.routecal.io.parquet.ParquetTableWriter;
import org.routecal.io.parquet.Row;
import org.routecal.quant.awq.AwqResult;

/**
 * awq_report.parquet (format {@value #FORMAT}, version {@value #VERSION}): one row per AWQ mapping of every decoder
 * layer — layer, smooth (the norm or Linear whose output is divided by the scales), parent (attention | moe_block |
 * dense_mlp | linear: what the loss ran), expert (-1 outside the routed experts' up → down), balances (how many
 * layers absorb the scales), statistics (what x̄ and the loss were built from: all | routed | weighted | hybrid),
 * fallback (none | all | rtn: the expert's min-token policy), tokens (tokens behind the statistics: routed tokens for
 * a routed expert), ratio (the chosen exponent α; null when skipped), duo (whether the chosen point divided by the
 * weights' magnitude), initial_loss (the identity's), best_loss, skipped (why no search ran, else null).
 */
final class AwqReport {
    private AwqReport() {}

    static final String FORMAT = "routecal.awq-report";
    static final int VERSION = 1;
    static final ParquetSchema SCHEMA = ParquetSchema.builder("awq_report").int32("layer").string("smooth").string("parent")
            .int32("expert").int32("balances").string("statistics").string("fallback").int64("tokens")
            .float64("ratio").nullable().bool("duo").float64("initial_loss").nullable().float64("best_loss").nullable()
            .string("skipped").nullable().build();

    static Object[] row(int layer, AwqMappings.Mapping m, String statistics, String fallback, long tokens, AwqResult r) {
        boolean ran = r.skipped() == null;
        return new Object[]{layer, m.smooth(), m.parent().name().toLowerCase(java.util.Locale.ROOT), m.expert(), m.balances().size(),
                statistics, fallback, tokens, ran ? r.bestRatio() : null, ran && r.bestDuo(), ran ? r.initialLoss() : null,
                ran ? r.bestLoss() : null, r.skipped()};
    }

    static void write(Path file, List<Object[]> rows) {
        try (ParquetTableWriter w = ParquetTableWriter.create(file, SCHEMA, FORMAT, VERSION, Map.of())) {
            for (Object[] r : rows) w.append(r);
        }
    }

    static List<Row> read(Path file) {
        return ParquetTableReader.open(file).requireFormat(FORMAT, VERSION, VERSION).readAll();
    }

    /** One line for the CLI summary: how many mappings were searched and the α chosen, by mapping kind. */
    static String line(List<Object[]> rows) {
        Map<String, Object> s = summary(rows);
        StringBuilder b = new StringBuilder("AWQ: ").append(s.get("mappings_searched")).append(" mappings searched, ")
                .append(s.get("mappings_skipped")).append(" skipped (awq_report.parquet)");
        @SuppressWarnings("unchecked")
        Map<String, List<Object>> by = (Map<String, List<Object>>) s.get("ratio_by_mapping");
        by.forEach((kind, list) -> {
            b.append("; ").append(kind).append(" α by layer [");
            for (int i = 0; i < list.size(); i++) {
                b.append(i == 0 ? "" : ", ").append(String.format(java.util.Locale.ROOT, "%.2f", ((Map<?, ?>) list.get(i)).get("ratio")));
            }
            b.append(']');
        });
        if (s.containsKey("expert_up_down_mean_ratio")) {
            b.append(String.format(java.util.Locale.ROOT, "; routed experts' up_proj→down_proj mean α %.2f (%.0f%% kept the identity)",
                    (Double) s.get("expert_up_down_mean_ratio"), 100 * (Double) s.get("expert_up_down_identity_share")));
        }
        return b.toString();
    }

    /**
     * The manifest's summary: mappings searched and skipped, α per layer for the two norm mappings, and the mean α and
     * share of identity choices (α = 0 without duo scaling) over the routed experts' up → down mappings.
     */
    static Map<String, Object> summary(List<Object[]> rows) {
        Map<String, Object> out = new LinkedHashMap<>();
        int searched = 0, skipped = 0, expertSearched = 0, identity = 0;
        double expertRatio = 0;
        Map<String, List<Object>> byMapping = new LinkedHashMap<>();
        for (Object[] r : rows) {
            Double ratio = (Double) r[8];
            if (ratio == null) {
                skipped++;
                continue;
            }
            searched++;
            int expert = (Integer) r[3];
            if (expert >= 0) {
                expertSearched++;
                expertRatio += ratio;
                if (ratio == 0 && !(Boolean) r[9]) identity++;
                continue;
            }
            String smooth = (String) r[1];
            String kind = smooth.replaceFirst("^.*?\\.layers\\.\\d+\\.", "");
            byMapping.computeIfAbsent(kind, k -> new ArrayList<>()).add(Map.of("layer", r[0], "ratio", ratio, "duo", r[9]));
        }
        out.put("mappings_searched", searched);
        out.put("mappings_skipped", skipped);
        out.put("ratio_by_mapping", byMapping);
        if (expertSearched > 0) {
            out.put("expert_up_down_mean_ratio", expertRatio / expertSearched);
            out.put("expert_up_down_identity_share", identity / (double) expertSearched);
        }
        return out;
    }
}
