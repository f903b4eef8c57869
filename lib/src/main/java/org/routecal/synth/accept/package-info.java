/**
 * The acceptance rule shared by {@code synthesize}, {@code select} and {@code refine}.
 *
 * <h2>Why it is not plain greedy coverage</h2>
 * In the reference experiment recorded in PIPELINE.md ("What the evidence says"), choosing calibration text only to fill
 * scarce experts made quantized models <em>worse</em> than simple stratified mixing. So the rule is greedy on the
 * deficit, but bounded by the original corpus's routing distribution, and the corpus only ever grows:
 * <ul>
 *   <li><b>add, never replace</b>: the current counts always contain the whole original corpus;</li>
 *   <li><b>gain</b>: a candidate must cover deficit tokens, {@code Σ min(c, max(0, target − n))} over (layer, expert)
 *       slots ({@code --target}, default the hidden size: the width a full-rank gate/up Hessian needs);</li>
 *   <li><b>pull cap</b>: mean per-layer Jensen–Shannon divergence (bits) between the candidate's expert distribution and
 *       the original's ≤ {@code --max-candidate-js} (default 0.35): text routed only to rare experts is refused;</li>
 *   <li><b>drift cap</b>: the grown corpus's mean per-layer JS from the original ≤ {@code --max-corpus-drift-js}
 *       (default 0.02 bits);</li>
 *   <li><b>size cap</b>: added tokens ≤ {@code --max-added-token-ratio} × original tokens (default 1.0).</li>
 * </ul>
 * Every candidate's score (deficit tokens covered per token), gain, divergences and verdict reason are recorded; refine
 * writes per-round metrics (deficit, slots below target, min/mean normalised entropy, JS drift) so the held-out effect
 * of each round can be measured. {@link org.routecal.synth.accept.AcceptanceParams#uncapped} gives the
 * reference-style rule for comparisons.
 *
 * <h2>Objectives</h2>
 * {@code select} and {@code refine} choose by a {@link org.routecal.synth.accept.SelectionObjective}: the rule above is
 * {@link org.routecal.synth.accept.DeficitObjective} ({@code --objective deficit}); {@link org.routecal.synth.accept.UsageObjective}
 * ({@code --objective usage}) lowers the expected estimation error of real use instead, every expert's error
 * {@code d/(d+n)} weighted by how often real use routes to it, with the domain mix capped. The corpus as selection grows
 * it is a {@link org.routecal.synth.accept.SelectionState}. Which objective is the default, and why, is decided by
 * {@code routecal experiment} on the trained benchmark model (README).
 */
package org.routecal.synth.accept;
