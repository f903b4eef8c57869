package org.routecal.quant;

import java.util.ArrayList;
import java.util.List;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.family.MoeFamily;

/**
 * Every Linear module of a model, by HF module name, from the family table (STYLE H1: no names in code), grouped by
 * the input they read so modules that share a Hessian are known: q/k/v share one, an expert's gate/up share one.
 */
public final class LinearModules {
    private LinearModules() {}

    /** Role of a module in its layer. */
    public enum Role { ATTENTION, ATTENTION_OUT, ROUTER, EXPERT_IN, EXPERT_DOWN, SHARED_IN, SHARED_DOWN, SHARED_GATE, DENSE_IN, DENSE_DOWN, LM_HEAD }

    /**
     * One Linear module.
     *
     * @param module     HF module name (tensor name without ".weight")
     * @param layer      decoder layer, -1 for lm_head
     * @param expert     routed expert index, -1 otherwise
     * @param role       its role
     * @param hessianKey the module whose input (and Hessian) it shares; itself when it reads its own input
     * @param fusedKey   modules that must share an NVFP4 global scale (q/k/v; an expert's gate/up) share this key
     */
    public record Module(String module, int layer, int expert, Role role, String hessianKey, String fusedKey) {}

    /**
     * The Linear modules of decoder layer {@code layer}, in forward order. Packed experts (GPT-OSS, Llama 4) are listed
     * under the per-expert names they are exported as (the table's {@code exportExpert*}; the weights come from
     * {@code model.PackedExperts}).
     */
    public static List<Module> ofLayer(ModelConfig config, int layer) {
        MoeFamily f = config.family();
        MoeFamily.Tensors t = f.tensors();
        List<Module> out = new ArrayList<>();
        if (config.mla() != null) {
            mla(config, t, layer, out);
        } else {
            String q = name(t.qProj(), layer, 0);
            for (String tpl : new String[]{t.qProj(), t.kProj(), t.vProj()}) out.add(new Module(name(tpl, layer, 0), layer, -1, Role.ATTENTION, q, q));
        }
        String o = name(t.oProj(), layer, 0);
        out.add(new Module(o, layer, -1, Role.ATTENTION_OUT, o, o));
        if (config.isMoeLayer(layer)) {
            String router = IgnoreRules.module(name(t.router(), layer, 0));
            out.add(new Module(router, layer, -1, Role.ROUTER, router, router));
            boolean packed = f.experts().packed3d();
            for (int e = 0; e < config.expertCount(); e++) {
                String gate = name(packed ? t.exportExpertGate() : t.expertGate(), layer, e);
                out.add(new Module(gate, layer, e, Role.EXPERT_IN, gate, gate));
                out.add(new Module(name(packed ? t.exportExpertUp() : t.expertUp(), layer, e), layer, e, Role.EXPERT_IN, gate, gate));
                String down = name(packed ? t.exportExpertDown() : t.expertDown(), layer, e);
                out.add(new Module(down, layer, e, Role.EXPERT_DOWN, down, down));
            }
            if (f.hasSharedExpert()) {
                String sg = name(t.sharedGate(), layer, 0);
                out.add(new Module(sg, layer, -1, Role.SHARED_IN, sg, sg));
                out.add(new Module(name(t.sharedUp(), layer, 0), layer, -1, Role.SHARED_IN, sg, sg));
                String sd = name(t.sharedDown(), layer, 0);
                out.add(new Module(sd, layer, -1, Role.SHARED_DOWN, sd, sd));
                if (t.sharedExpertGate() != null) {
                    String seg = IgnoreRules.module(name(t.sharedExpertGate(), layer, 0));
                    out.add(new Module(seg, layer, -1, Role.SHARED_GATE, seg, seg));
                }
            }
        } else {
            String dg = name(t.denseGate(), layer, 0);
            out.add(new Module(dg, layer, -1, Role.DENSE_IN, dg, dg));
            out.add(new Module(name(t.denseUp(), layer, 0), layer, -1, Role.DENSE_IN, dg, dg));
            String dd = name(t.denseDown(), layer, 0);
            out.add(new Module(dd, layer, -1, Role.DENSE_DOWN, dd, dd));
        }
        return out;
    }

    /**
     * MLA: q_a_proj (or q_proj) and kv_a_proj_with_mqa read the normed hidden state (one Hessian; vLLM fuses them, so
     * one NVFP4 global scale); q_b_proj reads q_a_layernorm's output and kv_b_proj kv_a_layernorm's.
     */
    private static void mla(ModelConfig config, MoeFamily.Tensors t, int layer, List<Module> out) {
        String kvA = name(t.kvAProj(), layer, 0);
        if (config.mla().qLoraRank() > 0) {
            String qA = name(t.qAProj(), layer, 0);
            out.add(new Module(qA, layer, -1, Role.ATTENTION, qA, qA));
            out.add(new Module(kvA, layer, -1, Role.ATTENTION, qA, qA));
            String qB = name(t.qBProj(), layer, 0);
            out.add(new Module(qB, layer, -1, Role.ATTENTION, qB, qB));
        } else {
            String q = name(t.qProj(), layer, 0);
            out.add(new Module(q, layer, -1, Role.ATTENTION, q, q));
            out.add(new Module(kvA, layer, -1, Role.ATTENTION, q, kvA));
        }
        String kvB = name(t.kvBProj(), layer, 0);
        out.add(new Module(kvB, layer, -1, Role.ATTENTION, kvB, kvB));
    }

    /** lm_head's module name (null when the family has none). */
    public static String lmHead(ModelConfig config) {
        String t = config.family().tensors().lmHead();
        return t == null ? null : IgnoreRules.module(t);
    }

    /** All Linear module names of the model (lm_head included when the checkpoint has it). */
    public static List<String> all(ModelConfig config, java.util.function.Predicate<String> tensorExists) {
        List<String> out = new ArrayList<>();
        for (int l = 0; l < config.layerCount(); l++) for (Module m : ofLayer(config, l)) out.add(m.module());
        String head = lmHead(config);
        if (head != null && tensorExists.test(head + ".weight")) out.add(head);
        return out;
    }

    private static String name(String template, int layer, int expert) {
        return MoeFamily.name(template, layer, expert);
    }
}
