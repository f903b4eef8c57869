package org.routecal.quant.ct;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.routecal.RoutecalException;
import org.routecal.io.Json;
import org.routecal.quant.gptq.ActOrder;
import org.routecal.quant.scheme.Fp8Scheme;
import org.routecal.quant.scheme.IntScheme;
import org.routecal.quant.scheme.Nvfp4Scheme;
import org.routecal.quant.scheme.QuantScheme;
import org.routecal.quant.scheme.ScaleDType;

/**
 * The {@code quantization_config} block of config.json (research/llmcompressor.md §3.5): one config group targeting
 * "Linear", the format, and the explicit ignore list. Optional keys that are null (block_structure, scale_dtype,
 * zp_dtype) are left out, so compressed-tensors ≤ 0.12 (pydantic extra="forbid") and newer both parse it.
 *
 * @param scheme   the weight grid (its scale dtype is the model's; only the semantic fields are written)
 * @param actOrder GPTQ act-order (null/NONE for RTN)
 * @param ignore   Linear modules left unquantized, explicit names
 */
public record CtQuantConfig(QuantScheme scheme, ActOrder actOrder, List<String> ignore) {
    /** The compressed-tensors version whose schema we write. */
    public static final String CT_VERSION = "0.18.0";
    private static final ObjectMapper JSON = Json.MAPPER;

    public CtFormat format() {
        if (scheme instanceof IntScheme) return CtFormat.PACK_QUANTIZED;
        if (scheme instanceof Fp8Scheme) return CtFormat.NAIVE_QUANTIZED;
        return CtFormat.NVFP4_PACK_QUANTIZED;
    }

    /** The scheme with the scale dtype a module's stored scales have (NVFP4: the model dtype of its values). */
    public QuantScheme schemeFor(ScaleDType scaleDtype) {
        if (scheme instanceof IntScheme is) return new IntScheme(is.bits(), is.symmetric(), is.groupSize(), scaleDtype);
        if (scheme instanceof Fp8Scheme fs) return new Fp8Scheme(fs.perTensor(), scaleDtype);
        return new Nvfp4Scheme(scaleDtype);
    }

    public ObjectNode toJson() {
        ObjectNode w = JSON.createObjectNode();
        // compressed-tensors rejects act-order on anything but group strategies
        boolean grouped = scheme instanceof IntScheme is && is.groupSize() > 0;
        String order = actOrder == null || !grouped ? null : actOrder.configValue();
        if (order == null) w.putNull("actorder"); else w.put("actorder", order);
        w.put("dynamic", false);
        if (scheme instanceof IntScheme is) {
            if (is.groupSize() > 0) w.put("group_size", is.groupSize()); else w.putNull("group_size");
            w.put("num_bits", is.bits());
            w.put("observer", "minmax");
            w.put("strategy", is.groupSize() > 0 ? "group" : "channel");
            w.put("symmetric", is.symmetric());
            w.put("type", "int");
        } else if (scheme instanceof Fp8Scheme fs) {
            w.putNull("group_size");
            w.put("num_bits", 8);
            w.put("observer", "minmax");
            w.put("strategy", fs.perTensor() ? "tensor" : "channel");
            w.put("symmetric", true);
            w.put("type", "float");
        } else {
            w.put("group_size", Nvfp4Scheme.GROUP_SIZE);
            w.put("num_bits", 4);
            w.put("observer", "minmax");
            w.put("strategy", "tensor_group");
            w.put("symmetric", true);
            w.put("type", "float");
        }
        w.putObject("observer_kwargs");
        ObjectNode group = JSON.createObjectNode();
        group.put("format", format().id);
        group.putNull("input_activations");
        group.putNull("output_activations");
        group.putArray("targets").add("Linear");
        group.set("weights", w);
        ObjectNode qc = JSON.createObjectNode();
        qc.putObject("config_groups").set("group_0", group);
        qc.put("format", format().id);
        qc.putNull("global_compression_ratio");
        ArrayNode ig = qc.putArray("ignore");
        ignore.forEach(ig::add);
        qc.putNull("kv_cache_scheme");
        qc.put("quant_method", "compressed-tensors");
        qc.put("quantization_status", "compressed");
        qc.putObject("sparsity_config");
        qc.putObject("transform_config");
        qc.put("version", CT_VERSION);
        return qc;
    }

    /** Parses a quantization_config block we can decode; errors name {@code where} and the field. */
    public static CtQuantConfig fromJson(JsonNode qc, String where) {
        if (qc == null || !"compressed-tensors".equals(qc.path("quant_method").asText())) {
            throw new RoutecalException(where + ": quantization_config.quant_method is not \"compressed-tensors\"");
        }
        JsonNode groups = qc.path("config_groups");
        if (groups.size() != 1) {
            throw new RoutecalException(where + ": quantization_config.config_groups has " + groups.size()
                    + " groups; only single-group checkpoints are supported");
        }
        JsonNode w = groups.elements().next().path("weights");
        String type = w.path("type").asText(), strategy = w.path("strategy").asText();
        int bits = w.path("num_bits").asInt();
        QuantScheme s;
        if (type.equals("int")) {
            int gs = strategy.equals("group") ? w.path("group_size").asInt() : 0;
            if (!strategy.equals("group") && !strategy.equals("channel")) {
                throw new RoutecalException(where + ": quantization_config weights.strategy \"" + strategy + "\" is not supported for int (group, channel)");
            }
            s = new IntScheme(bits, w.path("symmetric").asBoolean(true), gs, ScaleDType.BF16);
        } else if (type.equals("float") && bits == 8) {
            s = new Fp8Scheme(strategy.equals("tensor"), ScaleDType.BF16);
        } else if (type.equals("float") && bits == 4 && strategy.equals("tensor_group")) {
            s = new Nvfp4Scheme();
        } else {
            throw new RoutecalException(where + ": quantization_config weights {type " + type + ", num_bits " + bits
                    + ", strategy " + strategy + "} is not a scheme we decode");
        }
        JsonNode ao = w.path("actorder");
        ActOrder order = ao.isNull() || ao.isMissingNode() ? ActOrder.NONE : ActOrder.parse(ao.asText());
        List<String> ignore = new ArrayList<>();
        for (Iterator<JsonNode> it = qc.path("ignore").elements(); it.hasNext(); ) ignore.add(it.next().asText());
        return new CtQuantConfig(s, order, ignore);
    }
}
