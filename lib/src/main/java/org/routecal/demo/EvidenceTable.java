package org.routecal.demo;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.eval.Bootstrap;
import org.routecal.eval.Bootstrap.Interval;
import org.routecal.eval.EvalStatistics;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;
import org.routecal.route.BalanceMetrics;
import org.routecal.route.RouteResult;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The evidence table (issue 7): per calibration set × MoE mode, per evaluation domain, KL(original‖quantized) and the
 * perplexity change against the unquantized model, with the set's coverage beside it; and, per domain, whether the
 * compound corpus beats "original + more" at the same token budget. Numbers come from the evaluate stage's eval.json
 * and the route stage's per-layer metrics; nothing is computed twice.
 */
public final class EvidenceTable {
    /** One cell block: a (set, mode) row's numbers for one domain. */
    public record Cell(double kl, double pplChangePct) {}

    /** Coverage of a calibration set: min tokens of any expert, slots under target, mean and min per-layer normalised entropy. */
    public record Coverage(long tokens, long minCount, int slotsUnderTarget, double meanEntropy, double minEntropy) {}

    /**
     * Per domain: in how many modes compound's KL is below original+more's, both mean KLs over the modes, and their
     * paired difference (compound − original+more) with its bootstrap interval over the domain's held-out samples.
     */
    public record Verdict(String domain, int modesWon, int modes, double compoundKl, double moreKl, Interval klDifference, String text) {}

    /** Resamples and confidence of the verdicts' intervals (the evaluate stage's defaults). */
    static final EvalStatistics.Options INTERVALS = EvalStatistics.Options.defaults();

    private final List<String> domains;
    private final Map<String, Map<String, Cell>> rows; // "set/mode" → domain → cell
    private final Map<String, Coverage> coverage;
    private final List<Verdict> verdicts;
    private final long compoundTokens, originalTokens;

    private EvidenceTable(List<String> domains, Map<String, Map<String, Cell>> rows, Map<String, Coverage> coverage,
                          List<Verdict> verdicts, long compoundTokens, long originalTokens) {
        this.domains = domains;
        this.rows = rows;
        this.coverage = coverage;
        this.verdicts = verdicts;
        this.compoundTokens = compoundTokens;
        this.originalTokens = originalTokens;
    }

    public static EvidenceTable build(Path evalJson, Map<String, RouteResult> routes, long compoundTokens, long originalTokens) {
        JsonNode root;
        try {
            root = Json.MAPPER.readTree(evalJson.toFile());
        } catch (IOException e) {
            throw new RoutecalException(evalJson + ": cannot read the evaluation results: " + e.getMessage(), e);
        }
        Map<String, Double> basePpl = new LinkedHashMap<>();
        Set<String> domains = new LinkedHashSet<>();
        for (JsonNode d : root.get("domains")) {
            if (d.get("model").asText().equals("original")) {
                basePpl.put(d.get("domain").asText(), d.get("ppl").asDouble());
                domains.add(d.get("domain").asText());
            }
        }
        Map<String, Map<String, Cell>> rows = new LinkedHashMap<>();
        for (String set : DemoPipeline.SETS) for (String mode : DemoPipeline.MODES) rows.put(set + "/" + mode, new LinkedHashMap<>());
        for (JsonNode d : root.get("domains")) {
            String model = d.get("model").asText();
            if (model.equals("original")) continue;
            int dash = model.lastIndexOf('-');
            String key = model.substring(0, dash) + "/" + model.substring(dash + 1);
            Map<String, Cell> row = rows.get(key);
            if (row == null) continue;
            String domain = d.get("domain").asText();
            row.put(domain, new Cell(d.get("kl").asDouble(), 100 * (d.get("ppl").asDouble() / basePpl.get(domain) - 1)));
        }
        Map<String, Coverage> cov = new LinkedHashMap<>();
        routes.forEach((set, r) -> {
            long min = Long.MAX_VALUE;
            int under = 0;
            double sum = 0, minE = Double.MAX_VALUE;
            for (BalanceMetrics m : r.perLayer()) {
                min = Math.min(min, m.min());
                under += m.belowTarget();
                sum += m.entropyNorm();
                minE = Math.min(minE, m.entropyNorm());
            }
            cov.put(set, new Coverage(r.tokens(), min, under, sum / r.perLayer().size(), minE));
        });
        PairedKl paired = PairedKl.of(root.get("samples"));
        List<Verdict> verdicts = new ArrayList<>();
        for (String domain : domains) {
            int won = 0;
            double c = 0, m = 0;
            for (String mode : DemoPipeline.MODES) {
                Cell a = rows.get("compound/" + mode).get(domain), b = rows.get("original+more/" + mode).get(domain);
                if (a == null || b == null) continue;
                if (a.kl() < b.kl()) won++;
                c += a.kl() / DemoPipeline.MODES.size();
                m += b.kl() / DemoPipeline.MODES.size();
            }
            Interval diff = paired.difference(domain, "compound", "original+more");
            String ci = String.format(java.util.Locale.ROOT, "; KL difference %s%s", diff.format(4),
                    diff.excludesZero() ? "" : ", a tie at " + Math.round(100 * INTERVALS.confidence()) + " %");
            String text = (won == DemoPipeline.MODES.size() ? "compound beats original+more in every mode"
                    : won == 0 ? "compound does NOT beat original+more in any mode"
                    : "compound beats original+more in " + won + " of " + DemoPipeline.MODES.size() + " modes") + ci;
            verdicts.add(new Verdict(domain, won, DemoPipeline.MODES.size(), c, m, diff, text));
        }
        return new EvidenceTable(List.copyOf(domains), rows, cov, verdicts, compoundTokens, originalTokens);
    }

    public List<String> domains() { return domains; }

    public Map<String, Coverage> coverage() { return coverage; }

    public List<Verdict> verdicts() { return verdicts; }

    public Cell cell(String set, String mode, String domain) { return rows.get(set + "/" + mode).get(domain); }

    /** Every (set, mode, domain) cell present. */
    public boolean complete() {
        return rows.values().stream().allMatch(r -> r.keySet().containsAll(domains)) && coverage.keySet().containsAll(DemoPipeline.SETS);
    }

    /** One row per (set, mode): coverage, then KL and Δppl% per domain. */
    public Table table() {
        Table t = Table.create("Evidence: W4 GPTQ per calibration set × MoE mode (KL and perplexity change vs unquantized)");
        StringColumn set = StringColumn.create("calibration set"), mode = StringColumn.create("moe mode");
        IntColumn minCount = IntColumn.create("min tokens/expert"), under = IntColumn.create("slots under target");
        DoubleColumn entropy = DoubleColumn.create("mean layer entropy");
        Map<String, DoubleColumn> kl = new LinkedHashMap<>(), ppl = new LinkedHashMap<>();
        for (String d : domains) { kl.put(d, DoubleColumn.create("KL " + d)); ppl.put(d, DoubleColumn.create("Δppl% " + d)); }
        for (String s : DemoPipeline.SETS) {
            for (String m : DemoPipeline.MODES) {
                set.append(s);
                mode.append(m);
                Coverage c = coverage.get(s);
                minCount.append((int) c.minCount());
                under.append(c.slotsUnderTarget());
                entropy.append(round(c.meanEntropy(), 4));
                for (String d : domains) {
                    Cell cell = cell(s, m, d);
                    kl.get(d).append(cell == null ? Double.NaN : round(cell.kl(), 5));
                    ppl.get(d).append(cell == null ? Double.NaN : round(cell.pplChangePct(), 2));
                }
            }
        }
        t.addColumns(set, mode, minCount, under, entropy);
        for (String d : domains) t.addColumns(kl.get(d), ppl.get(d));
        return t;
    }

    public Table verdictTable() {
        Table t = Table.create("Does the compound corpus beat original + more at equal token budget? (lower KL wins)");
        StringColumn d = StringColumn.create("domain"), v = StringColumn.create("verdict");
        DoubleColumn c = DoubleColumn.create("mean KL compound"), m = DoubleColumn.create("mean KL original+more");
        StringColumn diff = StringColumn.create("compound − original+more [" + Math.round(100 * INTERVALS.confidence()) + "% CI]");
        for (Verdict x : verdicts) {
            d.append(x.domain());
            v.append(x.text());
            c.append(round(x.compoundKl(), 5));
            m.append(round(x.moreKl(), 5));
            diff.append(x.klDifference().format(4) + (x.klDifference().excludesZero() ? " *" : ""));
        }
        return t.addColumns(d, c, m, diff, v);
    }

    /** Markdown rendering of the KL part of the table (for the README and the CLI summary). */
    public String markdown() {
        StringBuilder sb = new StringBuilder("| set | mode | min tok/expert | slots < target | mean entropy |");
        for (String d : domains) sb.append(" KL ").append(d).append(" |");
        sb.append("\n|---|---|---|---|---|").append("---|".repeat(domains.size())).append('\n');
        for (String s : DemoPipeline.SETS) {
            for (String m : DemoPipeline.MODES) {
                Coverage c = coverage.get(s);
                sb.append("| ").append(s).append(" | ").append(m).append(" | ").append(c.minCount()).append(" | ")
                        .append(c.slotsUnderTarget()).append(" | ").append(String.format("%.3f", c.meanEntropy())).append(" |");
                for (String d : domains) {
                    Cell cell = cell(s, m, d);
                    sb.append(cell == null ? " – |" : String.format(" %.4f (%+.1f%%) |", cell.kl(), cell.pplChangePct()));
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    public void writeJson(Path file) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", "routecal.evidence");
        root.put("format_version", 1);
        root.put("original_tokens", originalTokens);
        root.put("compound_tokens", compoundTokens);
        root.put("domains", domains);
        root.put("coverage", coverage);
        root.put("rows", rows);
        root.put("verdicts", verdicts);
        try {
            AtomicFiles.writeString(file, Json.PRETTY.writeValueAsString(root));
        } catch (IOException e) {
            throw new RoutecalException(file + ": " + e.getMessage(), e);
        }
    }

    public long compoundTokens() { return compoundTokens; }

    public long originalTokens() { return originalTokens; }

    private static double round(double v, int digits) {
        double f = Math.pow(10, digits);
        return Math.round(v * f) / f;
    }

    /**
     * Held-out samples' KL per model, for paired intervals: a set's per-sample KL is its mean over the MoE modes, a
     * domain's value the token-weighted mean over its samples, resampled within domains (as evaluate does).
     */
    private record PairedKl(List<String> ids, List<String> strata, double[] tokens, Map<String, double[]> klByModel, Bootstrap bootstrap) {
        static PairedKl of(JsonNode samples) {
            if (samples == null) throw new RoutecalException("eval.json has no per-sample rows: cannot give the verdicts their intervals");
            Map<String, Integer> index = new LinkedHashMap<>();
            List<String> strata = new ArrayList<>();
            List<Double> tok = new ArrayList<>();
            for (JsonNode r : samples) {
                String id = r.get("sample_id").asText();
                if (!index.containsKey(id)) {
                    index.put(id, index.size());
                    strata.add(r.get("domain").asText());
                    tok.add(r.get("tokens").asDouble());
                }
            }
            Map<String, double[]> kl = new LinkedHashMap<>();
            for (JsonNode r : samples) {
                if (!r.has("kl")) continue;
                kl.computeIfAbsent(r.get("model").asText(), k -> new double[index.size()])[index.get(r.get("sample_id").asText())] = r.get("kl").asDouble();
            }
            return new PairedKl(List.copyOf(index.keySet()), strata, tok.stream().mapToDouble(Double::doubleValue).toArray(), kl,
                    new Bootstrap(strata, INTERVALS.resamples(), INTERVALS.seed(), INTERVALS.confidence()));
        }

        /** A set's per-sample KL, the mean over the modes. */
        private double[] setKl(String set) {
            double[] out = new double[ids.size()];
            for (String mode : DemoPipeline.MODES) {
                double[] k = klByModel.get(set + "-" + mode);
                if (k == null) throw new RoutecalException("eval.json has no per-sample KL of " + set + "-" + mode);
                for (int i = 0; i < out.length; i++) out[i] += k[i] / DemoPipeline.MODES.size();
            }
            return out;
        }

        Interval difference(String domain, String set, String baseline) {
            double[] a = setKl(set), b = setKl(baseline);
            return bootstrap.difference(w -> domainMean(w, a, domain), w -> domainMean(w, b, domain));
        }

        private double domainMean(double[] w, double[] kl, String domain) {
            double sum = 0, mass = 0;
            for (int i = 0; i < kl.length; i++) {
                if (!strata.get(i).equals(domain)) continue;
                sum += w[i] * tokens[i] * kl[i];
                mass += w[i] * tokens[i];
            }
            return mass == 0 ? Double.NaN : sum / mass;
        }
    }
}
