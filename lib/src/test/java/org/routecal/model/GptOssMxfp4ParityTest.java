package org.routecal.model;

import java.nio.file.Path;

/**
 * GPT-OSS with MXFP4 experts (*_blocks / *_scales, as published), decoded on load, against transformers' fp32 run of
 * the bf16 twin (tests/fixtures/models/gpt_oss/v1), whose experts hold exactly the values transformers'
 * convert_moe_packed_tensors decodes from these blocks (QuantizedSourceTest checks it bit for bit). So this is both
 * the parity test of the MXFP4 checkpoint and the check that it routes identically to its bf16 twin.
 *
 * <p>Why not the twin's own reference.json: on a CPU without Triton, transformers' MXFP4 loader dequantizes the
 * experts to bf16 parameters ("We will dequantize the model to bf16"), so that reference ran the experts' products in
 * bf16 (its logits differ from the fp32 twin's by up to 0.035): a precision of that run, not of the checkpoint.
 */
class GptOssMxfp4ParityTest extends AbstractFamilyParityTest {
    @Override String family() { return "gpt_oss_mxfp4"; }

    @Override Path referenceFixture() { return Path.of("..", "tests", "fixtures", "models", "gpt_oss", "v1"); }
}
