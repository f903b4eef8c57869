package org.routecal.serve;

import org.routecal.RoutecalException;

import java.nio.file.Files;
import java.nio.file.Path;

/** Picks the {@link TextCodec} of a model directory. */
public final class Codecs {
    private Codecs() {}

    /**
     * {@code kind}: {@code byte} (token id = UTF-8 byte, for byte-vocabulary toy models) or {@code auto} (the model's
     * {@code tokenizer.json} and chat template).
     */
    public static TextCodec load(Path modelDir, String kind) {
        switch (kind) {
            case "byte":
                return new ByteCodec();
            case "auto":
                if (!Files.exists(modelDir.resolve("tokenizer.json"))) {
                    throw new RoutecalException(modelDir + " has no tokenizer.json; for a byte-vocabulary test model pass --tokenizer byte");
                }
                return new TokenizerCodec(modelDir);
            default:
                throw new RoutecalException("--tokenizer must be auto or byte, got '" + kind + "'");
        }
    }
}
