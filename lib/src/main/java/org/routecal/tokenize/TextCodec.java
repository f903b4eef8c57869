package org.routecal.tokenize;

import org.routecal.RoutecalException;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The text side of a model, as every stage uses it: tokens with character spans, chat rendering, decoding, stop ids.
 * Two implementations: the model's own Hugging Face {@link Tokenizer}, and {@link ByteCodec} for byte-vocabulary toy
 * models (chosen explicitly, never a silent fallback).
 */
public interface TextCodec extends AutoCloseable {
    /** As HF {@code tokenizer(text, add_special_tokens=False)}: ids and each token's character span. */
    Encoding encode(String text);

    /** The ids of {@link #encode}. */
    default int[] ids(String text) { return encode(text).ids(); }

    /** The text of {@code ids} (special tokens kept, so stop tokens can be seen). */
    String decode(int[] ids);

    /** Whether the id is a special token (turn boundaries are cut before one, see the corpus loader). */
    boolean isSpecial(int id);

    /**
     * {@code messages} in the model's chat template (with the generation prompt if asked); {@code extra} holds the
     * template's keyword arguments such as {@code enable_thinking}. A clear error when the model has no template.
     */
    String renderChat(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> extra);

    /** Ids that end a generation (EOS, end-of-turn). */
    Set<Integer> stopIds();

    @Override
    default void close() {}

    /**
     * The codec of a model directory. {@code kind}: {@code auto} (the model's {@code tokenizer.json} and chat template)
     * or {@code byte} (token id = UTF-8 byte, for byte-vocabulary toy models).
     */
    static TextCodec load(Path modelDir, String kind) {
        switch (kind) {
            case "byte":
                return new ByteCodec();
            case "auto":
                if (!Files.exists(modelDir.resolve("tokenizer.json"))) {
                    throw new RoutecalException(modelDir + " has no tokenizer.json; for a byte-vocabulary test model pass --tokenizer byte");
                }
                return Tokenizer.load(modelDir);
            default:
                throw new RoutecalException("--tokenizer must be auto or byte, got '" + kind + "'");
        }
    }
}
