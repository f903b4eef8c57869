package org.routecal.compute.cuda;

/** Which scale formula {@code group_scales} applies (see quantize.cu). */
public enum ScaleMode {
    /** absmax / ((qmax − qmin) / 2), zero point 0. */
    INT_SYMMETRIC(0),
    /** min-max with 0 included: scale = (hi − lo) / (qmax − qmin), zp = clamp(rint(qmin − lo/scale)). */
    INT_ASYMMETRIC(1),
    /** absmax / 448 (FP8 E4M3 max). */
    FP8(2);

    private final int code;

    ScaleMode(int code) { this.code = code; }

    int code() { return code; }
}
