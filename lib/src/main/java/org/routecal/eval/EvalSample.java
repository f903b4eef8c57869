package org.routecal.eval;

/**
 * One tokenized evaluation (or calibration) sample.
 *
 * @param sampleId stable id from the corpus
 * @param domain   domain label (chat, math, code, …)
 * @param ids      token ids
 */
public record EvalSample(String sampleId, String domain, int[] ids) {}
