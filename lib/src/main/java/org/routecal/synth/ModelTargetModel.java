package org.routecal.synth;

import org.routecal.model.HostRoutingTap;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.route.RoutingCounts;
import org.routecal.tokenize.Encoding;
import org.routecal.tokenize.TextCodec;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The real {@link TargetModel}: the MoE model's router decides. Texts are cut into windows of at most
 * {@code maxTokens} tokens (each routed as its own sequence) so arbitrarily long candidates stay within the context.
 * Counts cover the MoE layers only, in layer order. Not thread-safe (one forward pass at a time).
 */
public final class ModelTargetModel implements TargetModel {
    private final MoeModel model;
    private final TextCodec codec;
    private final int maxTokens;
    private final int[] moeLayers; // HF layer index of each counted layer

    public ModelTargetModel(MoeModel model, TextCodec codec, int maxTokens) {
        this.model = model;
        this.codec = codec;
        this.maxTokens = Math.max(1, Math.min(maxTokens, model.config().maxPositionEmbeddings()));
        List<Integer> ls = new ArrayList<>();
        for (int l = 0; l < model.config().layerCount(); l++) if (model.config().isMoeLayer(l)) ls.add(l);
        this.moeLayers = ls.stream().mapToInt(Integer::intValue).toArray();
    }

    public int moeLayerCount() { return moeLayers.length; }
    public MoeModel model() { return model; }
    public int expertCount() { return model.config().expertCount(); }

    @Override public TextCodec codec() { return codec; }

    /** Texts routed recently (refine re-offers a pool every round; synthesize re-routes accepted rows on resume). */
    private final Map<String, RoutingCounts> memo = new LinkedHashMap<>(16, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<String, RoutingCounts> e) { return size() > MEMO_ENTRIES; }
    };
    private static final int MEMO_ENTRIES = 1024;

    @Override public RoutingCounts route(String text) {
        RoutingCounts hit = memo.get(text);
        if (hit != null) return hit.copy();
        RoutingCounts fresh = routeUncached(text);
        memo.put(text, fresh.copy());
        return fresh;
    }

    @Override public org.routecal.route.Brackets.Tagged bracket(String text, RoutingCounts current, long target) {
        Encoding enc = codec.encode(text);
        int[] ids = enc.ids();
        int[] shortPicks = new int[ids.length], picks = new int[ids.length];
        Map<Integer, Integer> ordinal = new LinkedHashMap<>();
        for (int i = 0; i < moeLayers.length; i++) ordinal.put(moeLayers[i], i);
        for (int start = 0; start < ids.length; start += maxTokens) {
            final int offset = start;
            int[] window = java.util.Arrays.copyOfRange(ids, start, Math.min(ids.length, start + maxTokens));
            model.forwardBatch(List.of(window), new HostRoutingTap() {
                @Override public void routing(int layer, int tokens, int topK, int[] topkIds, float[] topkWeights, float[] routerLogits) {
                    Integer o = ordinal.get(layer);
                    if (o == null) return;
                    for (int t = 0; t < tokens; t++) {
                        for (int k = 0; k < topK; k++) {
                            picks[offset + t]++;
                            if (current.get(o, topkIds[t * topK + k]) < target) shortPicks[offset + t]++;
                        }
                    }
                }
            }).close();
        }
        byte[] labels = new byte[ids.length];
        for (int t = 0; t < ids.length; t++) {
            if (picks[t] == 0) continue;
            if (2 * shortPicks[t] >= picks[t]) labels[t] = org.routecal.route.Brackets.RED;
            else if (shortPicks[t] == 0) labels[t] = org.routecal.route.Brackets.BLUE;
        }
        return org.routecal.route.Brackets.apply(text, enc.charStart(), enc.charEnd(), labels, null);
    }

    private RoutingCounts routeUncached(String text) {
        int[] ids = codec.ids(text);
        RoutingCounts counts = new RoutingCounts(moeLayers.length, model.config().expertCount());
        Map<Integer, Integer> ordinal = new LinkedHashMap<>();
        for (int i = 0; i < moeLayers.length; i++) ordinal.put(moeLayers[i], i);
        ForwardTaps taps = new HostRoutingTap() {
            @Override public void routing(int layer, int tokens, int topK, int[] topkIds, float[] topkWeights, float[] routerLogits) {
                Integer o = ordinal.get(layer);
                if (o == null) return;
                for (int i = 0; i < tokens * topK; i++) counts.addPick(o, topkIds[i]);
            }
        };
        for (int start = 0; start < ids.length; start += maxTokens) {
            int[] window = java.util.Arrays.copyOfRange(ids, start, Math.min(ids.length, start + maxTokens));
            model.forwardBatch(List.of(window), taps).close();
        }
        counts.addTokens(ids.length);
        return counts;
    }
}
