package org.routecal.quant;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.routecal.compute.Backend;
import org.routecal.compute.devices.DeviceGroup;
import org.routecal.model.Activations;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.quant.parallel.BalancedAssignment;
import org.routecal.quant.parallel.ContiguousSplit;
import org.routecal.quant.parallel.ModelReplicas;
import org.routecal.quant.parallel.OrderedSum;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.QuantizedWeight;

/**
 * The per-layer work of {@link QuantizeStage} on several devices of one host ({@code --devices}), over the replicas of
 * one model ({@link ModelReplicas}). Per decoder layer:
 * <ol>
 *   <li>calibration forward, data-parallel: device d runs its contiguous range of the batches ({@link ContiguousSplit})
 *       through the layer on its replica; its {@link LayerCalibration} collects its share of the dense Hessians, the
 *       block input and the routing;</li>
 *   <li>the routing is gathered on the host (device order is the one-device token order) and every expert's plan is
 *       made from all of it, exactly as on one device (min-token fallbacks and the hybrid factor see every token);</li>
 *   <li>owners: dense module groups and experts are bin-packed onto the devices by their solve work
 *       ({@link BalancedAssignment}), in rounds of experts sized so the host holds a bounded number of Hessians;</li>
 *   <li>reduction: each device downloads its partial Hessians (dense inputs, the block input, per expert the routed
 *       and all-token parts: {@link PartialHessians}) and the host adds them in device order ({@link OrderedSum}).
 *       This host staging is where peer copies or NCCL would go on GPUs with peer access;</li>
 *   <li>each owner solves its share with the unchanged {@link LayerQuantizer} (host GPTQ or batched DeviceGptq), fed the
 *       reduced Hessians through an {@link OwnerShard};</li>
 *   <li>broadcast: every quantized weight, dequantized, overrides that weight on every other replica; after the last
 *       round each device re-runs its batches through the quantized layer. Every replica then holds the quantized layer
 *       a one-device run would, so sequential calibration stays exact.</li>
 * </ol>
 * The checkpoint writer and the report get the results on the calling thread, in the layer's module order.
 * The Hessians differ from one device's only in the order of additions (device partials summed, not rows one after
 * another), which is fixed: the same devices always give the same checkpoint.
 */
final class DataParallelLayers implements AutoCloseable {
    private final ModelReplicas replicas;
    private final DeviceGroup group;
    private final int n;
    private final int[] starts;                      // [n + 1] device d runs batches starts[d] ≤ b < starts[d + 1]
    private final List<Integer> batchTokens;         // tokens of every batch, in order
    private final List<List<Activations>> acts = new ArrayList<>();
    private final Stats[] stats;
    private long bytesToHost, bytesToOwners;
    private int rounds, expertsPerRound;

    /** What each device did, for the manifest. */
    private static final class Stats {
        int batches, expertsSolved, denseSolved;
        long tokens;
        double forward, partials, solve, broadcast;
    }

    /** One quantized module from an owner. */
    private record Solved(String module, QuantizedWeight weight, int owner) {}

    /** An owner's results for one round. */
    private record OwnerResult(List<Object[]> report, List<Solved> solved, LayerQuantizer.FallbackCounts fallbacks, List<String> warnings) {}

    /**
     * Splits {@code batches} over the devices (contiguously, balanced by tokens), checks that each device's share fits
     * ({@link MemoryEstimate}) and embeds it there.
     */
    DataParallelLayers(ModelReplicas replicas, List<List<int[]>> batches, QuantizeOptions o) {
        this.replicas = replicas;
        this.group = replicas.devices();
        this.n = replicas.size();
        this.batchTokens = batches.stream().map(b -> b.stream().mapToInt(s -> s.length).sum()).toList();
        this.starts = ContiguousSplit.split(batchTokens.stream().mapToLong(Integer::longValue).toArray(), n);
        this.stats = new Stats[n];
        for (int d = 0; d < n; d++) {
            stats[d] = new Stats();
            stats[d].batches = starts[d + 1] - starts[d];
            for (int b = starts[d]; b < starts[d + 1]; b++) stats[d].tokens += batchTokens.get(b);
            acts.add(new ArrayList<>());
        }
        group.onEach(d -> {
            MemoryEstimate.check(replicas.model(d).config(), stats[d].tokens, o, group.backend(d));
            return null;
        });
        try {
            group.onEach(d -> {
                MoeModel m = replicas.model(d);
                for (int b = starts[d]; b < starts[d + 1]; b++) acts.get(d).add(m.embed(batches.get(b), b - starts[d]));
                return null;
            });
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Device d's batch token counts, in order. */
    private List<Integer> localTokens(int d) { return batchTokens.subList(starts[d], starts[d + 1]); }

    private long tokensBefore(int d) {
        long t = 0;
        for (int i = 0; i < d; i++) t += stats[i].tokens;
        return t;
    }

    /**
     * Quantizes decoder layer {@code layer} on every device, {@code schemes} giving modules another width than
     * {@code scheme} (the bit allocation's); results go to {@code sink} and {@code report} (module order), counts to
     * {@code fallbacks} and {@code warnings}. Returns {forward seconds, solve seconds} (wall time).
     */
    double[] quantizeLayer(int layer, QuantScheme scheme, Map<String, QuantScheme> schemes, QuantizeOptions o, IgnoreRules rules,
                           List<Object[]> report, LayerQuantizer.FallbackCounts fallbacks, List<String> warnings,
                           BiConsumer<String, QuantizedWeight> sink) {
        try (LayerRun run = new LayerRun(layer, scheme, schemes, o, rules)) {
            long f0 = System.nanoTime();
            run.forward();
            long s0 = System.nanoTime();
            run.plan();
            for (int from = 0; from == 0 || from < run.plans.size(); from += run.perRound) {
                broadcastAndCollect(layer, run.round(from), report, fallbacks, warnings, sink);
                rounds++;
            }
            long r0 = System.nanoTime();
            run.rerun();
            return new double[]{(s0 - f0 + System.nanoTime() - r0) / 1e9, (r0 - s0) / 1e9};
        }
    }

    /** One layer's steps (the class comment's 1–6) and what they share. */
    private final class LayerRun implements AutoCloseable {
        final int layer;
        final QuantScheme scheme;
        final Map<String, QuantScheme> schemes;
        final QuantizeOptions o;
        final IgnoreRules rules;
        final LayerQuantizer[] local = new LayerQuantizer[n];     // per device: its hessianKeys, its rows' plans
        final LayerCalibration[] cals = new LayerCalibration[n];  // per device: what its forward collected
        final int hidden, inter;
        Routing routing;
        List<LayerQuantizer.ExpertPlan> plans;                   // from every token's routing
        List<List<LayerQuantizer.ExpertPlan>> localPlans;        // per device: the same experts, its rows only
        Map<String, List<LinearModules.Module>> dense;
        boolean needBlockInput;
        int perRound;
        double[] blockInput;                                      // reduced all-token block-input Hessian, or null
        Map<String, double[]> denseHessians = Map.of();
        final Map<String, Long> denseRows = new HashMap<>();

        LayerRun(int layer, QuantScheme scheme, Map<String, QuantScheme> schemes, QuantizeOptions o, IgnoreRules rules) {
            this.layer = layer;
            this.scheme = scheme;
            this.schemes = schemes;
            this.o = o;
            this.rules = rules;
            this.hidden = replicas.primary().config().hiddenSize();
            this.inter = Math.max(1, replicas.primary().config().expertIntermediateSize());
        }

        /** 1. Each device runs its batches through the layer, its calibration taps collecting. */
        void forward() {
            group.onEach(d -> {
                long t0 = System.nanoTime();
                MoeModel m = replicas.model(d);
                m.weights().beginLayer();
                local[d] = new LayerQuantizer(m, layer, scheme, o, rules, new ArrayList<>()).withSchemes(schemes);
                cals[d] = new LayerCalibration(layer, m.backend(), local[d].hessianKeys(), localTokens(d));
                for (Activations act : acts.get(d)) {
                    try (Activations calib = o.sequential() ? QuantizeStage.copy(m, act) : null) {
                        m.layer(layer, calib != null ? calib : act, cals[d]);
                    }
                }
                stats[d].forward += (System.nanoTime() - t0) / 1e9;
                return null;
            });
        }

        /** 2. The routing of every token, the experts' plans from it, and what the reduction must carry. */
        void plan() {
            routing = Routing.gather(cals, DataParallelLayers.this::tokensBefore, batchTokens.stream().mapToLong(Integer::longValue).sum());
            LayerQuantizer planner = local[0]; // its fallback counts are thrown away: the owners count theirs
            plans = planner.plans(routing.view(layer, group.backend(0), planner.hessianKeys(), batchTokens));
            localPlans = new ArrayList<>();
            for (int d = 0; d < n; d++) localPlans.add(local[d].plans(cals[d]));
            dense = planner.denseGroups();
            boolean routerSolved = o.gptq() && dense.values().stream().anyMatch(g -> g.get(0).role() == LinearModules.Role.ROUTER);
            needBlockInput = routerSolved || (o.gptq() && plans.stream().anyMatch(LayerQuantizer.ExpertPlan::useAll));
            perRound = expertsPerRound(plans.size(), hidden, inter, n);
            expertsPerRound = Math.max(expertsPerRound, perRound);
        }

        /** 3.–5. The experts [from, from + perRound) (and, first, the dense groups): owners, reduction, solves. */
        List<OwnerResult> round(int from) {
            int to = Math.min(plans.size(), from + perRound);
            boolean first = from == 0;
            List<LayerQuantizer.ExpertPlan> round = plans.subList(from, to);
            List<String> items = first ? new ArrayList<>(dense.keySet()) : List.of();
            double[] costs = new double[items.size() + round.size()];
            for (int i = 0; i < items.size(); i++) costs[i] = denseWork(replicas.primary(), dense.get(items.get(i)), o.gptq());
            for (int i = 0; i < round.size(); i++) costs[items.size() + i] = expertWork(round.get(i), hidden, inter);
            int[] owners = BalancedAssignment.assign(costs, n);
            Map<PartialHessians.Key, double[]> reduced = reduce(first, round, from, to);
            return group.onEach(d -> {
                Set<String> myDense = new LinkedHashSet<>();
                Set<Integer> myExperts = new LinkedHashSet<>();
                for (int i = 0; i < items.size(); i++) if (owners[i] == d) myDense.add(items.get(i));
                for (int i = 0; i < round.size(); i++) if (owners[items.size() + i] == d) myExperts.add(round.get(i).expert());
                return myDense.isEmpty() && myExperts.isEmpty() ? null : solve(d, myDense, myExperts, reduced);
            });
        }

        /** 4. Every device hands its partials to the host, which adds them in device order. */
        private Map<PartialHessians.Key, double[]> reduce(boolean first, List<LayerQuantizer.ExpertPlan> round, int from, int to) {
            OrderedSum<String> denseSums = new OrderedSum<>(n);
            OrderedSum<PartialHessians.Key> sums = new OrderedSum<>(n);
            group.onEach(d -> {
                long t0 = System.nanoTime();
                Backend b = group.backend(d);
                if (first) {
                    for (String key : local[d].hessianKeys()) {
                        var h = cals[d].hessians.get(key);
                        if (h == null) denseSums.skip(key, d);
                        else denseSums.add(key, d, b.downloadDoubles(h));
                    }
                    if (needBlockInput) PartialHessians.deliverBlockInput(b, cals[d], d, sums);
                }
                PartialHessians.deliver(replicas.model(d), layer, local[d], cals[d], round, localPlans.get(d).subList(from, to), d, sums);
                stats[d].partials += (System.nanoTime() - t0) / 1e9;
                return null;
            });
            bytesToHost += denseSums.bytesReceived() + sums.bytesReceived();
            Map<PartialHessians.Key, double[]> reduced = sums.drain();
            if (first) {
                denseHessians = denseSums.drain();
                for (LayerCalibration c : cals) c.hessianRows.forEach((k, v) -> denseRows.merge(k, v, Long::sum));
                blockInput = reduced.remove(PartialHessians.BLOCK_INPUT);
                for (double[] h : denseHessians.values()) if (h != null) bytesToOwners += 8L * h.length;
            }
            for (double[] h : reduced.values()) if (h != null) bytesToOwners += 8L * h.length;
            return reduced;
        }

        /** 5. Owner d solves its share with the one-device LayerQuantizer, fed the reduced Hessians. */
        private OwnerResult solve(int d, Set<String> myDense, Set<Integer> myExperts, Map<PartialHessians.Key, double[]> reduced) {
            long t0 = System.nanoTime();
            MoeModel m = replicas.model(d);
            Backend b = m.backend();
            List<Object[]> rows = new ArrayList<>();
            List<Solved> solved = new ArrayList<>();
            LayerQuantizer lq = new LayerQuantizer(m, layer, scheme, o, rules, rows).withSchemes(schemes);
            try (LayerCalibration cal = routing.view(layer, b, local[d].hessianKeys(), batchTokens);
                 OwnerShard shard = new OwnerShard(b, myDense, myExperts, reduced, blockInput, hidden)) {
                for (String key : myDense) {
                    double[] h = denseHessians.get(key);
                    if (h == null) continue;
                    int cols = (int) Math.round(Math.sqrt(h.length));
                    cal.hessians.put(key, b.uploadHessian(h, cols, cols, "H " + key + " (reduced)"));
                    cal.hessianRows.put(key, denseRows.get(key));
                }
                lq.shard = shard;
                lq.quantize(cal, (module, q) -> solved.add(new Solved(module, q, d)));
            }
            stats[d].expertsSolved += myExperts.size();
            stats[d].denseSolved += myDense.size();
            stats[d].solve += (System.nanoTime() - t0) / 1e9;
            return new OwnerResult(rows, solved, lq.fallbacks, lq.warnings);
        }

        /** 6 (end). Sequential: every device re-runs its batches through the quantized layer; overrides are dropped. */
        void rerun() {
            group.onEach(d -> {
                long t0 = System.nanoTime();
                MoeModel m = replicas.model(d);
                if (o.sequential()) for (Activations act : acts.get(d)) m.layer(layer, act, ForwardTaps.NONE);
                m.weights().clearOverrides();
                stats[d].forward += (System.nanoTime() - t0) / 1e9;
                return null;
            });
        }

        @Override
        public void close() {
            group.onEach(d -> {
                if (cals[d] != null) cals[d].close();
                return null;
            });
        }
    }

    /**
     * Each owner's results into every other replica (dequantized, as the owner's own LayerQuantizer put them into its
     * model), then to the writer and the report on this thread in the layer's module order.
     */
    private void broadcastAndCollect(int layer, List<OwnerResult> results, List<Object[]> report, LayerQuantizer.FallbackCounts fallbacks,
                                     List<String> warnings, BiConsumer<String, QuantizedWeight> sink) {
        Map<String, Integer> order = new HashMap<>();
        for (LinearModules.Module m : LinearModules.ofLayer(replicas.primary().config(), layer)) order.put(m.module(), order.size());
        Comparator<String> byModule = Comparator.comparing(m -> order.getOrDefault(m, Integer.MAX_VALUE));
        List<Solved> solved = new ArrayList<>();
        List<Object[]> rows = new ArrayList<>();
        List<String> layerWarnings = new ArrayList<>();
        for (OwnerResult r : results) {
            if (r == null) continue;
            solved.addAll(r.solved());
            rows.addAll(r.report());
            fallbacks.add(r.fallbacks());
            layerWarnings.addAll(r.warnings());
        }
        solved.sort(Comparator.comparing(Solved::module, byModule));
        rows.sort(Comparator.comparing(row -> (String) row[0], byModule));
        layerWarnings.sort(null);
        Map<String, float[]> dequantized = new LinkedHashMap<>();
        for (Solved s : solved) dequantized.put(s.module(), s.weight().dequantize());
        group.onEach(d -> {
            long t0 = System.nanoTime();
            MoeModel m = replicas.model(d);
            for (Solved s : solved) if (s.owner() != d) m.overrideWeight(s.module() + ".weight", dequantized.get(s.module()));
            stats[d].broadcast += (System.nanoTime() - t0) / 1e9;
            return null;
        });
        for (Solved s : solved) sink.accept(s.module(), s.weight());
        report.addAll(rows);
        warnings.addAll(layerWarnings);
    }

    /**
     * Experts per round: as many as fit a quarter of the heap as host partials (gate/up, down, all-token down, in
     * double) when, at worst, every device's partials of the round wait in {@link OrderedSum} at once.
     */
    static int expertsPerRound(int experts, int hidden, int inter, int devices) {
        long perExpert = 8L * ((long) hidden * hidden + 2L * inter * inter) * devices;
        long budget = Runtime.getRuntime().maxMemory() / 4;
        long cap = Long.getLong(ROUND_PROPERTY, Long.MAX_VALUE);
        return (int) Math.max(1, Math.min(Math.min(Math.max(1, experts), budget / perExpert), cap));
    }

    /** {@code -Droutecal.quantize.expertsPerRound=N} caps the round size (less host memory; tests use it to run many rounds). */
    static final String ROUND_PROPERTY = "routecal.quantize.expertsPerRound";

    /**
     * The owner's work for modules sharing one K×K Hessian with R output rows in all: GPTQ factors the damped inverse
     * (~K³) and sweeps the rows (~R·K²); rounding is ~R·K. The Hessians are built where the tokens are (each device its
     * share), so the routed-token count does not weigh on the owner: it decides, through the min-token fallback,
     * whether an expert gets GPTQ at all.
     */
    static double work(long cols, long rows, boolean gptq) {
        return gptq ? (double) cols * cols * (cols + rows) : (double) rows * cols;
    }

    private static double denseWork(MoeModel m, List<LinearModules.Module> group, boolean gptq) {
        long cols = m.weights().shape(group.get(0).module() + ".weight")[1], rows = 0;
        for (LinearModules.Module mod : group) rows += m.weights().shape(mod.module() + ".weight")[0];
        return work(cols, rows, gptq);
    }

    /** An expert's gate and up ([I, H] each, one Hessian) and its down ([H, I]). */
    private static double expertWork(LayerQuantizer.ExpertPlan p, int hidden, int inter) {
        return work(hidden, (long) p.in().size() * inter, p.gptq()) + work(inter, (long) p.down().size() * hidden, p.gptq());
    }

    /** The routing of every calibration token, concatenated in device order (= the one-device token order). */
    private record Routing(int topK, int[] ids, float[] weights) {
        static Routing gather(LayerCalibration[] cals, java.util.function.IntToLongFunction tokensBefore, long tokens) {
            int k = 0;
            for (LayerCalibration c : cals) if (c.ids != null) k = c.topK;
            if (k == 0) return new Routing(0, null, null);
            int[] ids = new int[Math.toIntExact(tokens * k)];
            float[] w = new float[ids.length];
            for (int d = 0; d < cals.length; d++) {
                if (cals[d].ids == null) continue;
                int at = Math.toIntExact(tokensBefore.applyAsLong(d) * k);
                System.arraycopy(cals[d].ids, 0, ids, at, cals[d].ids.length);
                System.arraycopy(cals[d].weights, 0, w, at, cals[d].weights.length);
            }
            return new Routing(k, ids, w);
        }

        /** A calibration holding only this routing over every batch (no block input): what owners plan and solve from. */
        LayerCalibration view(int layer, Backend b, Set<String> hessianKeys, List<Integer> batchTokens) {
            LayerCalibration c = new LayerCalibration(layer, b, hessianKeys, batchTokens);
            c.ids = ids;
            c.weights = weights;
            c.topK = topK;
            return c;
        }
    }

    /** The manifest's record of the devices: a "devices" parameter and per-device counts and timings under results. */
    Map<String, Object> manifestEntries(Map<String, Object> inputs) {
        Map<String, Object> out = new LinkedHashMap<>(inputs);
        List<Integer> ordinals = new ArrayList<>();
        List<Map<String, Object>> devices = new ArrayList<>();
        for (int d = 0; d < n; d++) {
            ordinals.add(group.ordinal(d));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("device", d);
            m.put("ordinal", group.ordinal(d));
            m.put("kind", group.backend(d).device().kind());
            m.put("name", group.backend(d).device().name());
            m.put("batches", stats[d].batches);
            m.put("tokens", stats[d].tokens);
            m.put("experts_solved", stats[d].expertsSolved);
            m.put("dense_groups_solved", stats[d].denseSolved);
            m.put("forward_s", stats[d].forward);
            m.put("partial_hessians_s", stats[d].partials);
            m.put("solve_s", stats[d].solve);
            m.put("broadcast_s", stats[d].broadcast);
            devices.add(m);
        }
        out.put("devices", ordinals);
        Map<String, Object> reduction = new LinkedHashMap<>();
        reduction.put("staging", "host (download, add in device order, upload to the owner)");
        reduction.put("bytes_to_host", bytesToHost);
        reduction.put("bytes_to_owners", bytesToOwners);
        reduction.put("expert_rounds", rounds);
        reduction.put("experts_per_round", expertsPerRound);
        out.put("devices_detail", new Manifest.Results(Map.of("devices", devices, "reduction", reduction)));
        return out;
    }

    /** Frees every device's activations (on its thread). */
    @Override
    public void close() {
        group.onEach(d -> {
            acts.get(d).forEach(Activations::close);
            acts.get(d).clear();
            return null;
        });
    }
}
