package org.routecal.synth.select;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.routecal.RoutecalException;
import org.routecal.compute.Tensor;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.KvCache;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Progress;
import org.routecal.serve.Sampler;
import org.routecal.route.RoutingCounts;
import org.routecal.tokenize.TextCodec;
import org.routecal.corpus.Sample;

/**
 * Expert-balanced self-sampling in the manner of MoEQuant's EBSS: the model writes its own calibration text, and each
 * next token is chosen among the {@code candidates} likeliest by looking ahead at how it routes.
 *
 * <p>Per step: the {@code candidates} most probable next tokens are each run one step through the model (KV cache,
 * then rolled back) to read their top-k experts in every MoE layer; a candidate's balance bonus is the mean over its
 * picks of {@code log((mean_l + 1) / (n[l][e] + 1))}, positive for experts used less than their layer's mean in the
 * corpus so far ({@code n}: original + accepted + this text). The token is drawn from
 * {@code softmax(log p(v) / temperature + beta · bonus(v))} over the candidates, then appended for real. A text starts
 * from the first {@code promptTokens} tokens of a random original sample (so generations stay near real domains) and
 * stops at a stop token or {@code maxNewTokens}. Cost: {@code candidates + 1} one-token forward steps per generated
 * token. No LLM endpoint: the target model is the generator.
 */
public final class SelfSampler {
    /** Generation settings. */
    public record Params(int promptTokens, int maxNewTokens, int candidates, double temperature, double beta) {
        public static final Params DEFAULTS = new Params(8, 160, 4, 1.0, 1.0);

        public Params {
            if (promptTokens < 1 || maxNewTokens < 1 || candidates < 1 || !(temperature > 0)) {
                throw new RoutecalException("self-sample: prompt tokens, new tokens and candidates must be ≥ 1 and temperature > 0");
            }
        }
    }

    /** One generated text with its routing (as the generation saw it) and its source sample's domain. */
    public record Generated(String id, String domain, String text, int[] ids) {}

    private final MoeModel model;
    private final TextCodec codec;
    private final Map<Integer, Integer> ordinal = new LinkedHashMap<>(); // HF layer → MoE layer ordinal

    public SelfSampler(MoeModel model, TextCodec codec) {
        this.model = model;
        this.codec = codec;
        int o = 0;
        for (int l = 0; l < model.config().layerCount(); l++) if (model.config().isMoeLayer(l)) ordinal.put(l, o++);
    }

    /**
     * Generates texts until their tokens reach {@code budgetTokens}. {@code counts}: the corpus the texts are added to
     * (copied; the steering sees each generated token's picks as they are added).
     */
    public List<Generated> generate(List<Sample> prompts, RoutingCounts counts, long budgetTokens, Params p, long seed,
                                    Progress progress) {
        if (prompts.isEmpty()) throw new RoutecalException("self-sample: no original samples to take prompts from");
        Random rnd = new Random(seed);
        RoutingCounts n = counts.copy();
        Set<Integer> stop = codec.stopIds();
        List<Generated> out = new ArrayList<>();
        long produced = 0;
        progress.start("self-sample tokens", budgetTokens);
        while (produced < budgetTokens) {
            Sample src = prompts.get(rnd.nextInt(prompts.size()));
            int[] all = src.ids();
            if (all.length == 0) continue;
            int[] prompt = java.util.Arrays.copyOf(all, Math.min(p.promptTokens(), all.length));
            int limit = (int) Math.min(p.maxNewTokens(), budgetTokens - produced - prompt.length);
            if (limit < 1) break; // no room for a prompt and one new token
            List<Integer> ids = new ArrayList<>();
            for (int t : prompt) ids.add(t);
            try (KvCache cache = model.newCache()) {
                float[] logits = model.decodeLast(cache, prompt, counting(n));
                for (int step = 0; step < limit && cache.length() < model.config().maxPositionEmbeddings() - 1; step++) {
                    int next = choose(cache, logits, n, p, rnd);
                    if (stop.contains(next)) break;
                    logits = model.decodeLast(cache, new int[]{next}, counting(n));
                    ids.add(next);
                }
            }
            int[] arr = ids.stream().mapToInt(Integer::intValue).toArray();
            String text = codec.decode(arr);
            // the budget counts tokens as the corpus reader will (decoding can merge or split tokens: count the text's)
            int tokens = codec.encode(text).size();
            produced += tokens;
            progress.advance(tokens);
            out.add(new Generated("self/" + seed + "/" + out.size(), src.domain(), text, arr));
        }
        progress.finish();
        return out;
    }

    /** The next token: the likeliest {@code candidates}, each looked ahead one step for its routing, drawn by score. */
    private int choose(KvCache cache, float[] logits, RoutingCounts n, Params p, Random rnd) {
        int vocab = logits.length;
        double[] logp = Sampler.logSoftmax(logits, 0, vocab);
        Integer[] order = new Integer[vocab];
        for (int i = 0; i < vocab; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(logp[b], logp[a]));
        int m = Math.min(p.candidates(), vocab), len = cache.length();
        double[] score = new double[m];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < m; c++) {
            int v = order[c];
            List<int[]> picks = new ArrayList<>(); // per MoE layer: {ordinal, expert...}
            model.decodeLast(cache, new int[]{v}, new ForwardTaps() {
                @Override public void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor w, Tensor lg) {
                    Integer o = ordinal.get(layer);
                    if (o == null) return;
                    int[] e = model.backend().downloadInts(ids);
                    int[] row = new int[e.length + 1];
                    row[0] = o;
                    System.arraycopy(e, 0, row, 1, e.length);
                    picks.add(row);
                }
            });
            cache.truncate(len); // roll the lookahead back
            score[c] = logp[v] / p.temperature() + p.beta() * bonus(picks, n);
            max = Math.max(max, score[c]);
        }
        double sum = 0;
        for (int c = 0; c < m; c++) sum += score[c] = Math.exp(score[c] - max);
        double u = rnd.nextDouble() * sum;
        for (int c = 0; c < m; c++) {
            u -= score[c];
            if (u <= 0) return order[c];
        }
        return order[m - 1];
    }

    /** Mean over a token's picks of log((layer mean + 1) / (count + 1)): > 0 toward under-used experts. */
    static double bonus(List<int[]> picks, RoutingCounts n) {
        double s = 0;
        int k = 0;
        for (int[] row : picks) {
            int l = row[0];
            double mean = (double) n.layerTotal(l) / n.experts();
            for (int i = 1; i < row.length; i++) {
                s += Math.log((mean + 1) / (n.get(l, row[i]) + 1));
                k++;
            }
        }
        return k == 0 ? 0 : s / k;
    }

    /** A tap adding every routed pick to {@code n} (the chosen tokens, as the corpus will count them). */
    private ForwardTaps counting(RoutingCounts n) {
        int experts = model.config().expertCount();
        return new ForwardTaps() {
            @Override public void routing(int layer, Activations batch, Tensor x, Tensor ids, Tensor w, Tensor lg) {
                Integer o = ordinal.get(layer);
                if (o == null) return;
                long[][] c = new long[n.layers()][experts];
                for (int e : model.backend().downloadInts(ids)) c[o][e]++;
                n.add(RoutingCounts.of(c, 0));
            }
        };
    }
}
