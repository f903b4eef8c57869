package org.routecal.serve;

import org.routecal.model.KvCache;
import org.routecal.model.ForwardTaps;
import org.routecal.model.MoeModel;
import org.routecal.tokenize.TextCodec;

/**
 * A loaded model behind the server: a {@link MoeModel} (original weights, or a quantized checkpoint's dequantized
 * weights loaded over them) and its {@link TextCodec}. Generation is incremental with the model's KV cache: a
 * {@link Session} holds one sequence's cache.
 */
public final class ServedModel {
    private final String id;
    private final MoeModel model;
    private final TextCodec codec;

    public ServedModel(String id, MoeModel model, TextCodec codec) {
        this.id = id;
        this.model = model;
        this.codec = codec;
    }

    public String id() { return id; }
    public TextCodec codec() { return codec; }
    public int vocabSize() { return model.config().vocabSize(); }
    public int maxContext() { return model.config().maxPositionEmbeddings(); }

    /** One sequence being extended token by token. */
    public final class Session {
        private final KvCache cache = model.newCache();

        /** Appends {@code ids} and returns their logits [ids.length, vocab] row-major. */
        public float[] append(int[] ids) {
            return model.decode(cache, ids, ForwardTaps.NONE);
        }

        public int length() { return cache.length(); }
    }

    public Session newSession() { return new Session(); }
}
