package org.routecal.route;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.io.AtomicFiles;
import org.routecal.model.MoeModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code manifest.json} of a route or bracket run (format routecal.manifest, version 1): inputs with sha256, the model
 * (directory, config sha256, fingerprint), parameters, seed, versions, timings and the outputs with their sizes.
 * Model weight files are identified by the fingerprint rather than hashed (tens of GB for real models).
 */
final class RouteManifest {
    static final String FORMAT = "routecal.manifest";
    private static final ObjectMapper JSON = new ObjectMapper();

    private RouteManifest() {}

    static void write(Path runDir, String stage, MoeModel model, String fingerprint, Object params, Map<String, Path> inputs,
                      Map<String, Object> settings, Map<String, Double> timings) {
        ObjectNode root = JSON.createObjectNode();
        root.put("format", FORMAT).put("format_version", 1).put("stage", stage);
        ObjectNode in = root.putObject("inputs");
        for (Map.Entry<String, Path> e : inputs.entrySet()) {
            in.putObject(e.getKey()).put("path", e.getValue().toAbsolutePath().toString()).put("sha256", ModelFingerprint.sha256(e.getValue()));
        }
        if (model != null) {
            ObjectNode m = root.putObject("model").put("dir", model.dir().toAbsolutePath().toString()).put("fingerprint", fingerprint);
            Path config = model.dir().resolve("config.json");
            if (Files.isRegularFile(config)) m.put("config_sha256", ModelFingerprint.sha256(config));
        } else if (fingerprint != null) {
            root.putObject("model").put("fingerprint", fingerprint);
        }
        root.set("parameters", JSON.valueToTree(params));
        root.set("settings", JSON.valueToTree(settings));
        Object seed = settings.get("seed");
        if (seed != null) root.set("seed", JSON.valueToTree(seed));
        root.putObject("versions").put("routecal", version()).put("java", System.getProperty("java.version"));
        root.set("timings_seconds", JSON.valueToTree(timings));
        ObjectNode outs = root.putObject("outputs");
        try (Stream<Path> files = Files.list(runDir)) {
            for (Path p : files.sorted().toList()) {
                String name = p.getFileName().toString();
                if (Files.isRegularFile(p) && !name.startsWith(".") && !name.equals("manifest.json")) outs.put(name, Files.size(p));
            }
        } catch (IOException e) {
            outs.put("error", e.getMessage());
        }
        AtomicFiles.writeJson(runDir.resolve("manifest.json"), root);
    }

    static String version() {
        String v = RouteManifest.class.getPackage().getImplementationVersion();
        return v != null ? v : "0.1.0-SNAPSHOT";
    }
}
