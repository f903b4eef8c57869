package org.routecal.compute.cuda.bench;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.routecal.compute.cuda.WeightStreamer;
import org.routecal.compute.cuda.ref.Numerics;

/**
 * The tensors of one benchmark decoder layer in HF layouts ([out, in], bf16; norms fp32), by HF-style name. Host
 * copies for the streaming benchmark are random bf16 bytes shared by every layer (the copy cost is what is measured).
 */
final class LayerWeights {
    static final String Q = "self_attn.q_proj.weight", K = "self_attn.k_proj.weight", V = "self_attn.v_proj.weight";
    static final String O = "self_attn.o_proj.weight", Q_NORM = "self_attn.q_norm.weight", K_NORM = "self_attn.k_norm.weight";
    static final String IN_NORM = "input_layernorm.weight", POST_NORM = "post_attention_layernorm.weight";
    static final String ROUTER = "mlp.gate.weight", GATE_UP = "mlp.experts.gate_up_proj", DOWN = "mlp.experts.down_proj";

    private LayerWeights() {}

    /** Name, element count and whether the tensor is bf16 (else fp32), in layout order. */
    record Spec(String name, long elements, boolean bf16) {
        long bytes() { return elements * (bf16 ? 2 : 4); }
    }

    static List<Spec> specs(MoeGeometry g) {
        long h = g.hidden();
        return List.of(new Spec(IN_NORM, h, false), new Spec(Q, (long) g.qDim() * h, true), new Spec(K, (long) g.kvDim() * h, true),
                new Spec(V, (long) g.kvDim() * h, true), new Spec(Q_NORM, g.headDim(), false), new Spec(K_NORM, g.headDim(), false),
                new Spec(O, h * g.qDim(), true), new Spec(POST_NORM, h, false), new Spec(ROUTER, (long) g.experts() * h, true),
                new Spec(GATE_UP, (long) g.experts() * 2 * g.inter() * h, true), new Spec(DOWN, (long) g.experts() * h * g.inter(), true));
    }

    /** Host tensors with random contents (norm weights near 1, matrices N(0, 0.02)), shared by all layers. */
    static WeightStreamer.LayerSource hostSource(MoeGeometry g, long seed) {
        List<WeightStreamer.HostTensor> tensors = new ArrayList<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Spec s : specs(g)) {
            ByteBuffer b = ByteBuffer.allocateDirect((int) s.bytes()).order(ByteOrder.LITTLE_ENDIAN);
            for (long i = 0; i < s.elements(); i++) {
                if (s.bf16()) b.putShort((short) Numerics.bf16Bits((float) ((rnd.nextDouble() * 2 - 1) * 0.02 * Math.sqrt(3))));
                else b.putFloat((float) (1 + 0.1 * (rnd.nextDouble() - 0.5)));
            }
            b.flip();
            tensors.add(new WeightStreamer.HostTensor(s.name(), b));
        }
        List<WeightStreamer.HostTensor> frozen = List.copyOf(tensors);
        return layer -> frozen;
    }
}
