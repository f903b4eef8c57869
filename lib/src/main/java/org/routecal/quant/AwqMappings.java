package org.routecal.quant;

import java.util.ArrayList;
import java.util.List;
import org.routecal.model.family.ModelConfig;
import org.routecal.model.family.MoeFamily;
import org.routecal.quant.LinearModules.Role;

/**
 * Which layer's output AWQ smooths and which Linear layers absorb the scales, per decoder layer, from the family table
 * (llm-compressor's {@code _moe_default_mappings} / {@code default_mappings}):
 * <ol>
 *   <li>input_layernorm → q_proj, k_proj, v_proj (parent: the attention block);</li>
 *   <li>v_proj → o_proj, only when their shapes line up (no grouped-query attention), parent o_proj;</li>
 *   <li>post_attention_layernorm → every Linear that reads its output: in an MoE layer the router, every routed
 *       expert's gate_proj and up_proj, and the shared expert's gate/up and gate (parent: the MoE block), so one scale
 *       vector is shared by all experts — one norm feeds them all; in a dense layer gate_proj and up_proj;</li>
 *   <li>up_proj → down_proj for every expert (routed and shared) and dense MLP, parent down_proj: per expert.</li>
 * </ol>
 * Listing every reader of the norm keeps the folding exact: a reader left out would see x/s uncompensated
 * (llm-compressor's MoE pattern names only mlp.gate and mlp.experts.*, not Qwen2-MoE's shared_expert).
 */
public final class AwqMappings {
    private AwqMappings() {}

    /** Whose output the loss is measured on. */
    public enum Parent { ATTENTION, MOE_BLOCK, DENSE_MLP, LINEAR }

    /**
     * @param smooth   the module whose output is divided by s: a norm (its weight is γ) or a Linear (its output rows)
     * @param norm     true when {@code smooth} is a norm
     * @param balances modules whose input columns are multiplied by s
     * @param parent   what the search's loss runs
     * @param expert   routed expert of an up → down mapping, -1 otherwise
     */
    public record Mapping(String smooth, boolean norm, List<String> balances, Parent parent, int expert) {
        public Mapping {
            balances = List.copyOf(balances);
        }
    }

    /** The mappings of one decoder layer, in the order llm-compressor applies them. */
    public static List<Mapping> ofLayer(ModelConfig config, int layer) {
        MoeFamily.Tensors t = config.family().tensors();
        List<LinearModules.Module> modules = LinearModules.ofLayer(config, layer);
        List<Mapping> out = new ArrayList<>();
        out.add(new Mapping(norm(t.inputNorm(), layer), true, names(modules, Role.ATTENTION), Parent.ATTENTION, -1));
        if (config.headCount() == config.headCountKv()) {
            out.add(new Mapping(byRole(modules, Role.ATTENTION).get(2).module(), false, names(modules, Role.ATTENTION_OUT), Parent.LINEAR, -1));
        }
        boolean moe = config.isMoeLayer(layer);
        List<String> readers = moe ? names(modules, Role.ROUTER, Role.EXPERT_IN, Role.SHARED_IN, Role.SHARED_GATE) : names(modules, Role.DENSE_IN);
        out.add(new Mapping(norm(t.postAttentionNorm(), layer), true, readers, moe ? Parent.MOE_BLOCK : Parent.DENSE_MLP, -1));
        // up_proj → down_proj: in LinearModules order an expert's gate, up, down follow each other
        for (int i = 0; i + 1 < modules.size(); i++) {
            LinearModules.Module up = modules.get(i), down = modules.get(i + 1);
            boolean routed = up.role() == Role.EXPERT_IN && down.role() == Role.EXPERT_DOWN && up.expert() == down.expert();
            boolean shared = up.role() == Role.SHARED_IN && down.role() == Role.SHARED_DOWN;
            boolean dense = up.role() == Role.DENSE_IN && down.role() == Role.DENSE_DOWN;
            if (routed || shared || dense) out.add(new Mapping(up.module(), false, List.of(down.module()), Parent.LINEAR, routed ? up.expert() : -1));
        }
        return out;
    }

    private static String norm(String template, int layer) {
        String n = MoeFamily.name(template, layer, 0);
        return n.endsWith(".weight") ? n.substring(0, n.length() - ".weight".length()) : n;
    }

    private static List<LinearModules.Module> byRole(List<LinearModules.Module> modules, Role role) {
        return modules.stream().filter(m -> m.role() == role).toList();
    }

    private static List<String> names(List<LinearModules.Module> modules, Role... roles) {
        List<Role> rs = List.of(roles);
        return modules.stream().filter(m -> rs.contains(m.role())).map(LinearModules.Module::module).toList();
    }
}
