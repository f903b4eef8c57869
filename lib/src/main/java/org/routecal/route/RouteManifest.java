package org.routecal.route;

import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.RunDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The manifest of a route or bracket run through {@link Manifest}: inputs with sha256 (the model's config.json hashed,
 * its weight files recorded by size only — tens of GB for real models — and identified by the fingerprint), parameters,
 * seed, versions, timings and every output file with its hash.
 */
final class RouteManifest {
    private RouteManifest() {}

    static void write(Path runDir, String fileName, String command, MoeModel model, String fingerprint, Object params,
                      Map<String, Path> inputs, Map<String, Object> settings, Map<String, Double> timings) {
        Manifest.Builder b = Manifest.builder(command);
        inputs.forEach(b::input);
        if (model != null && Files.isDirectory(model.dir())) {
            Path config = model.dir().resolve("config.json");
            if (Files.isRegularFile(config)) b.input("model_config", config);
            try (Stream<Path> s = Files.list(model.dir())) {
                for (Path p : s.filter(p -> p.getFileName().toString().endsWith(".safetensors")).sorted().toList()) b.input("model_weights", p, false);
            } catch (IOException e) {
                b.parameter("model_listing_error", e.getMessage());
            }
        }
        if (fingerprint != null) b.version("model_fingerprint", fingerprint);
        b.parameter("params", params);
        b.parameters(settings);
        if (settings.get("seed") instanceof Number n) b.seed(n.longValue());
        timings.forEach(b::timing);
        RunDir dir = RunDir.openExisting(runDir); // the route stage created it (marker file)
        try (Stream<Path> files = Files.list(runDir)) {
            for (Path p : files.sorted().toList()) {
                String name = p.getFileName().toString();
                if (Files.isRegularFile(p) && !name.startsWith(".") && !name.startsWith("manifest")) b.output(name, p, dir);
            }
        } catch (IOException e) {
            b.parameter("output_listing_error", e.getMessage());
        }
        b.build().write(runDir.resolve(fileName));
    }
}
