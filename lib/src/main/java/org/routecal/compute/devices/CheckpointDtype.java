package org.routecal.compute.devices;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;

/** The dtype a checkpoint declares (config.json {@code torch_dtype} / {@code dtype}), for {@code --precision auto}. */
final class CheckpointDtype {
    private CheckpointDtype() {}

    /** True unless config.json says float32/float16 explicitly; bf16 is what MoE checkpoints ship in. */
    static boolean isBf16(Path modelDir) {
        try {
            JsonNode c = new ObjectMapper().readTree(Files.readString(modelDir.resolve("config.json")));
            String d = c.path("torch_dtype").asText(c.path("dtype").asText("bfloat16"));
            return !(d.equals("float32") || d.equals("float16"));
        } catch (Exception e) {
            return true; // no config yet: the model loader reports that with its own message
        }
    }
}
