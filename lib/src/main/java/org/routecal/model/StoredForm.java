package org.routecal.model;

import java.util.Map;

/**
 * How one logical tensor of a {@link TensorSource} is stored, so a backend can upload the encoded bytes and decode on
 * the device instead of taking {@link TensorSource#readFloat}'s float32: the encoding, the stored tensors that hold
 * it by role, and the block shape of its scales.
 *
 * @param encoding how the values are encoded
 * @param parts    role → stored tensor name; roles are {@code values} (the codes: weight, *_blocks, weight_packed) and
 *                 {@code scales}, plus {@code zero_point}, {@code g_idx}, {@code global_scale} where the format has
 *                 them; read them with {@link TensorSource#readStored}
 * @param block    values per scale along [rows, cols] of the decoded tensor's last two dims ({1, 1} for plain)
 */
public record StoredForm(Encoding encoding, Map<String, String> parts, int[] block) {

    public enum Encoding {
        /** stored as is (BF16, F16, F32 …) */
        PLAIN,
        /** F8_E4M3 codes × weight_scale_inv per block (DeepSeek-V3 / FineGrainedFP8) */
        FP8_BLOCK,
        /** e2m1 codes in U8 *_blocks × e8m0 *_scales per 32 inputs; the logical tensor is the transpose (GPT-OSS) */
        MXFP4,
        /** a compressed-tensors module (pack-quantized, naive/float-quantized, nvfp4-pack-quantized) */
        COMPRESSED_TENSORS
    }

    public static StoredForm plain(String name) { return new StoredForm(Encoding.PLAIN, Map.of("values", name), new int[]{1, 1}); }
}
