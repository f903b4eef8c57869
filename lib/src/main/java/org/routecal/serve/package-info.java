/**
 * {@code routecal serve}: an OpenAI-compatible HTTP server for a loaded model ({@link org.routecal.serve.OpenAiServer}),
 * generating with the model's KV cache ({@link org.routecal.serve.ServedModel}). Point lm-eval at it with
 * {@code lm_eval --model local-completions --model_args model=NAME,base_url=http://127.0.0.1:8000/v1/completions,tokenizer=MODEL_DIR}
 * for loglikelihood tasks ({@code echo} + {@code logprobs}), or {@code local-chat-completions} for generation tasks.
 * Notes: prefill computes logits for every prompt position (needed for echo; a logits-for-last-row-only path in
 * MoeModel would save memory on long prompts with real vocabularies); one generation per request slot, no batching.
 */
package org.routecal.serve;
