package org.routecal.route;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.io.AtomicFiles;
import org.routecal.io.Json;

import java.nio.file.Path;
import java.util.List;

/**
 * {@code metrics.json} (format routecal.route_metrics, version 1): run totals, balance metrics per layer and over all
 * slots, both slot sets in the reference's threshold-JSON vocabulary ({@code freq_expert}/{@code less_expert},
 * {@code q_sensitive_expert}/{@code q_robust_group}, {@code experts_x}/{@code experts_y}, {@code n_*}), and the token
 * class counts per mode and domain. Non-finite numbers are written as null.
 */
final class RouteMetricsJson {
    static final String FORMAT = "routecal.route_metrics";
    static final int VERSION = 1;
    private static final ObjectMapper JSON = Json.MAPPER;

    private RouteMetricsJson() {}

    static void write(Path file, RoutingGeometry g, ExpertCounts counts, long target, List<BalanceMetrics> perLayer,
                      BalanceMetrics all, SlotSets balance, SlotSets qSens, TokenScoreWriter.Summary scores, RouteParams p) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT).put("format_version", VERSION);
        root.put("tokens", counts.tokens()).put("moe_layers", g.layers()).put("experts", g.experts()).put("top_k", g.topK());
        root.put("target", target).put("ranking", p.ranking().name().toLowerCase());
        ArrayNode layers = root.putArray("per_layer");
        for (BalanceMetrics m : perLayer) layers.add(metrics(m));
        root.set("all_slots", metrics(all));
        ObjectNode sets = root.putObject("slot_sets");
        ObjectNode b = sets.putObject("balance");
        b.put("freq_thr", p.freqThr()).put("less_thr", p.lessThr()).put("thr_y", p.freqThr()).put("thr_x", p.lessThr());
        b.put("ranking_basis", p.ranking() == Ranking.GLOBAL ? "full_grid_count_desc" : "per_layer_count_desc");
        b.put("n_freq", balance.y().length).put("n_less", balance.x().length).put("n_y", balance.y().length).put("n_x", balance.x().length);
        b.set("freq_expert", slots(g, balance.y()));
        b.set("less_expert", slots(g, balance.x()));
        ObjectNode q = sets.putObject("q_sensitivity");
        q.put("group_size", ReferenceSensitivity.GROUP).put("metric", "per_fc_max_over_blocks_of_max_abs_over_median_abs_along_input_groups");
        q.put("sen_thr", p.senThr()).put("rob_thr", p.robThr());
        q.put("ranking_basis", p.ranking() == Ranking.GLOBAL ? "full_grid_sensitivity_asc" : "per_layer_sensitivity_asc");
        q.put("n_sen", qSens.x().length).put("n_rob", qSens.y().length);
        q.set("q_sensitive_expert", slots(g, qSens.x()));
        q.set("q_robust_group", slots(g, qSens.y()));
        ObjectNode classes = root.putObject("token_classes");
        for (Mode m : Mode.values()) {
            ObjectNode mc = classes.putObject(m.key());
            Boxes bx = p.boxes(m);
            mc.putObject("token_thr_blue").put("x", bx.blueX()).put("y", bx.blueY());
            mc.putObject("token_thr_red").put("x", bx.redX()).put("y", bx.redY());
            mc.put("n_tokens_total", counts.tokens()).put("n_token_blue_region", scores.blue(m) + scores.both(m))
                    .put("n_token_red_region", scores.red(m) + scores.both(m)).put("n_token_both", scores.both(m));
            ObjectNode dom = mc.putObject("per_domain");
            for (int d = 0; d < scores.domains().size(); d++) {
                long[] c = scores.classCounts().get(m)[d];
                dom.putObject(scores.domains().get(d)).put("tokens", scores.domainTokens()[d]).put("blue", c[0]).put("red", c[1]).put("both", c[2]);
            }
        }
        ObjectNode deficit = root.putObject("deficit_score_mean_per_domain");
        for (int d = 0; d < scores.domains().size(); d++) {
            num(deficit, scores.domains().get(d), scores.domainTokens()[d] == 0 ? Double.NaN : scores.domainDeficitSum()[d] / scores.domainTokens()[d]);
        }
        AtomicFiles.writeJson(file, root);
    }

    static ObjectNode metrics(BalanceMetrics m) {
        ObjectNode o = JSON.createObjectNode();
        if (m.layer() >= 0) o.put("layer", m.layer());
        o.put("experts", m.experts()).put("picks", m.picks());
        num(o, "mean", m.mean());
        num(o, "cv", m.cv());
        num(o, "entropy_norm", m.entropyNorm());
        num(o, "gini", m.gini());
        num(o, "max_over_mean", m.maxOverMean());
        o.put("min", m.min()).put("max", m.max());
        num(o, "share_std", m.shareStd());
        o.put("target", m.target());
        num(o, "coverage", m.coverage());
        o.put("deficit", m.deficit()).put("below_target", m.belowTarget());
        return o;
    }

    private static ArrayNode slots(RoutingGeometry g, int[] slots) {
        ArrayNode a = JSON.createArrayNode();
        for (int s : slots) a.addObject().put("layer", g.layerIndex()[s / g.experts()]).put("expert_id", s % g.experts());
        return a;
    }

    private static void num(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) o.put(key, v);
        else o.putNull(key);
    }
}
