/**
 * {@code routecal serve}: an OpenAI-compatible HTTP server for a loaded model ({@link org.routecal.serve.OpenAiServer}),
 * generating with the model's KV cache ({@link org.routecal.serve.ServedModel}). Point lm-eval at it with
 * {@code lm_eval --model local-completions --model_args model=NAME,base_url=http://127.0.0.1:8000/v1/completions,tokenizer=MODEL_DIR}
 * for loglikelihood tasks ({@code echo} + {@code logprobs}), or {@code local-chat-completions} for generation tasks;
 * NAME is the served name ({@code --served-model-name}, default the directory name): another name gets 404.
 *
 * <p>A request passes, in order: {@link org.routecal.serve.HttpGate} (path, drain, API key, method, declared size),
 * {@link org.routecal.serve.Admission} (a ticket, or 429), the capped body read, {@link org.routecal.serve.RequestFields}
 * (types and ranges, 400 naming the field), the length bound of text prompts, a turn, tokenizing, the exact context
 * check, and generation. What this protects against, and what not: SECURITY.md at the repository root.
 *
 * <p>Notes: prefill computes logits for every prompt position (needed for echo; a logits-for-last-row-only path in
 * MoeModel would save memory on long prompts with real vocabularies); one generation per request slot, no batching.
 */
package org.routecal.serve;
