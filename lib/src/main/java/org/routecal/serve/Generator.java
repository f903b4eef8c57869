package org.routecal.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * One completion: prefill the prompt through a {@link ServedModel.Session} (KV cache), then sample token by token
 * until a stop token, a stop string, or {@code maxTokens}. Collects what the OpenAI logprobs fields need.
 */
final class Generator {
    /** Per-position logprob data: the chosen token's logprob and the top-N alternatives (id → logprob). */
    record Position(int id, Double logprob, int[] topIds, double[] topLogprobs) {}

    record Output(int[] promptIds, List<Position> prompt, List<Position> generated, String text, String finishReason) {}

    record Params(int maxTokens, double temperature, double topP, long seed, List<String> stop, int logprobs, boolean echo) {}

    /** Generation was stopped from outside (the server's drain deadline passed). */
    static final class Cancelled extends RuntimeException {
        Cancelled() { super("generation cancelled: the server is shutting down", null, false, false); }
    }

    private Generator() {}

    /**
     * Runs one completion. {@code onText} receives the text as it becomes final (for streaming): text that could still
     * turn into a stop string is held back until it cannot. {@code cancelled} is polled before every token; when it
     * turns true the run ends with {@link Cancelled}.
     */
    static Output run(ServedModel model, int[] promptIds, Params p, Consumer<String> onText, BooleanSupplier cancelled) {
        int vocab = model.vocabSize();
        ServedModel.Session s = model.newSession();
        Sampler sampler = new Sampler(p.temperature(), p.topP(), p.seed());
        List<Position> prompt = new ArrayList<>();
        float[] logits = s.append(promptIds); // [promptIds.length, vocab]
        if (p.echo() && p.logprobs() >= 0) {
            prompt.add(new Position(promptIds[0], null, null, null));
            for (int i = 1; i < promptIds.length; i++) prompt.add(position(logits, i - 1, vocab, promptIds[i], p.logprobs()));
        }
        int lastRow = promptIds.length - 1;
        Set<Integer> stopIds = model.codec().stopIds();
        List<Position> gen = new ArrayList<>();
        List<Integer> ids = new ArrayList<>();
        String text = "", finish = "length";
        int emitted = 0, holdBack = p.stop().stream().mapToInt(String::length).max().orElse(1) - 1;
        for (int step = 0; step < p.maxTokens(); step++) {
            if (cancelled.getAsBoolean()) throw new Cancelled();
            int next = sampler.next(logits, lastRow, vocab);
            if (stopIds.contains(next)) {
                finish = "stop";
                break;
            }
            gen.add(p.logprobs() >= 0 ? position(logits, lastRow, vocab, next, p.logprobs()) : new Position(next, null, null, null));
            ids.add(next);
            text = model.codec().decode(ids.stream().mapToInt(Integer::intValue).toArray());
            int cut = firstStop(text, p.stop());
            if (cut >= 0) {
                text = text.substring(0, cut);
                finish = "stop";
                break;
            }
            // emit what can no longer be part of a stop string, and no dangling half of a multi-byte character
            int safe = Math.max(emitted, text.length() - holdBack);
            if (safe > emitted && !text.substring(emitted, safe).endsWith("\uFFFD")) {
                onText.accept(text.substring(emitted, safe));
                emitted = safe;
            }
            if (step + 1 < p.maxTokens()) {
                if (s.length() >= model.maxContext()) break;
                logits = s.append(new int[]{next});
                lastRow = 0;
            }
        }
        if (text.length() > emitted) onText.accept(text.substring(emitted));
        return new Output(promptIds, prompt, gen, text, finish);
    }

    private static int firstStop(String text, List<String> stops) {
        int best = -1;
        for (String st : stops) {
            if (st.isEmpty()) continue;
            int i = text.indexOf(st);
            if (i >= 0 && (best < 0 || i < best)) best = i;
        }
        return best;
    }

    private static Position position(float[] logits, int row, int vocab, int id, int top) {
        double[] lp = Sampler.logSoftmax(logits, row, vocab);
        int n = Math.min(top, vocab);
        int[] topIds = new int[n];
        double[] topLp = new double[n];
        boolean[] used = new boolean[vocab];
        for (int k = 0; k < n; k++) {
            int best = -1;
            for (int i = 0; i < vocab; i++) if (!used[i] && (best < 0 || lp[i] > lp[best])) best = i;
            used[best] = true;
            topIds[k] = best;
            topLp[k] = lp[best];
        }
        return new Position(id, lp[id], topIds, topLp);
    }
}
