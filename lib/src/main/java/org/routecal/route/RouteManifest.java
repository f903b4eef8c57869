package org.routecal.route;

import org.routecal.model.MoeModel;
import org.routecal.pipeline.Manifest;

import java.nio.file.Path;
import java.util.Map;

/**
 * The manifest of a route or bracket run through {@link Manifest}: inputs with sha256 (the model's weight files by size,
 * identified by the fingerprint), parameters, seed, versions, timings, results and every output file with its hash.
 */
final class RouteManifest {
    private RouteManifest() {}

    static void write(Path runDir, String fileName, String command, MoeModel model, String fingerprint, Object params,
                      Map<String, Path> inputs, Map<String, Object> settings, Map<String, Double> timings) {
        Manifest.Builder b = Manifest.builder(command);
        inputs.forEach(b::input);
        if (model != null) b.model("model", model.dir()).device(model.backend());
        if (fingerprint != null) b.version("model_fingerprint", fingerprint);
        b.parameter("params", params);
        b.add(settings); // the corpus options, and the loader's summary as results
        if (settings.get("seed") instanceof Number n) b.seed(n.longValue());
        timings.forEach(b::timing);
        b.outputsIn(runDir);
        b.build().write(runDir.resolve(fileName));
    }
}
