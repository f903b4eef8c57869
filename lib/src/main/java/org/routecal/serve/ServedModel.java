package org.routecal.serve;

import org.routecal.session.Session;
import org.routecal.model.KvCache;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.tokenize.TextCodec;

import java.text.Normalizer;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A loaded model behind the server: a {@link MoeModel} (original weights, or a quantized checkpoint's dequantized
 * weights loaded over them) and its {@link TextCodec}. Generation is incremental with the model's KV cache: a
 * {@link Session} holds one sequence's cache.
 */
public final class ServedModel {
    private final String id;
    private final MoeModel model;
    private final TextCodec codec;
    /** The most UTF-16 chars one token of the vocabulary can stand for in a text (see {@link #tokensAtLeast}). */
    private final int maxCharsPerToken;

    public ServedModel(String id, MoeModel model, TextCodec codec) {
        this.id = id;
        this.model = model;
        this.codec = codec;
        this.maxCharsPerToken = maxCharsPerToken(codec, model.config().vocabSize());
    }

    public String id() { return id; }
    public TextCodec codec() { return codec; }
    public int vocabSize() { return model.config().vocabSize(); }
    public int maxContext() { return model.config().maxPositionEmbeddings(); }

    /**
     * A lower bound on the number of tokens {@code text} encodes to, found without tokenizing it, so that a prompt far
     * over the context is refused in microseconds instead of minutes (a 15 MB prompt took 57 CPU-s to tokenize).
     *
     * <p>Every token stands for at most {@link #maxCharsPerToken} characters of the text it came from, so a text of n
     * characters needs at least n / max tokens. Tokenizers may normalize first; the normalizers of the supported
     * families (none, NFC, and one-for-one replacements) can shorten a text only by composing characters, so the count
     * uses the shortest of the text, its NFC and its NFKC form (computed only when the bound is not trivially 0).
     */
    public long tokensAtLeast(String text) {
        long chars = text.length();
        if (chars / maxCharsPerToken == 0) return 0;
        chars = Math.min(chars, Math.min(Normalizer.normalize(text, Normalizer.Form.NFC).length(),
                Normalizer.normalize(text, Normalizer.Form.NFKC).length()));
        return chars / maxCharsPerToken;
    }

    /**
     * The longest decoded single token, + 1: decoders of the sentencepiece kind strip the leading space of a token
     * decoded alone ("▁the" → "the") that it contributes inside a text. A token holding part of a multi-byte
     * character decodes alone to U+FFFD, never fewer characters than it contributes. One pass over the vocabulary at
     * start-up (≈150k decodes for Qwen3).
     */
    private static int maxCharsPerToken(TextCodec codec, int vocabSize) {
        int max = 1;
        int[] one = new int[1];
        for (int id = 0; id < vocabSize; id++) {
            one[0] = id;
            try {
                max = Math.max(max, codec.decode(one).length());
            } catch (RuntimeException e) {
                // an id past the tokenizer's vocabulary (config vocab_size is often padded): encode never yields it
            }
        }
        return max + 1;
    }

    /**
     * One forward pass at a time over the shared model: its weight cache and scratch state are not built for two
     * passes at once (unsynchronized, two concurrent generations corrupted the weight cache). Fair, so that with
     * {@code --max-concurrent N} the running generations take turns step by step instead of one starving the rest.
     */
    private final ReentrantLock forward = new ReentrantLock(true);

    /** One sequence being extended token by token. */
    public final class Session {
        private final KvCache cache;

        Session() {
            forward.lock();
            try {
                cache = model.newCache();
            } finally {
                forward.unlock();
            }
        }

        /** Appends {@code ids} and returns their logits [ids.length, vocab] row-major. */
        public float[] append(int[] ids) {
            forward.lock();
            try {
                return model.decode(cache, ids, ForwardTaps.NONE);
            } finally {
                forward.unlock();
            }
        }

        public int length() { return cache.length(); }
    }

    public Session newSession() { return new Session(); }
}
