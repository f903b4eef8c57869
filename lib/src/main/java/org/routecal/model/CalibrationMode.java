package org.routecal.model;

/**
 * Which tokens each expert processes for the taps (STYLE H8: an argument of the forward call, never a global flag).
 * The block output always combines only the routed experts with their routing weights, so later layers see the
 * model's real activations in either mode.
 */
public enum CalibrationMode {
    /** Experts see only the tokens routed to them (normal inference). */
    ROUTED,
    /** Every token goes through every expert for the taps (llm-compressor's calibrate_all_experts); E× expert FLOPs. */
    ALL
}
