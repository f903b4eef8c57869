package org.routecal.io.safetensors;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the committed fixtures under the repository's tests/fixtures (tests run with lib/ as working dir). */
final class Fixtures {
    private Fixtures() {}

    static Path dir(String name) {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            Path f = p.resolve("tests/fixtures").resolve(name);
            if (Files.isDirectory(f)) return f;
        }
        throw new IllegalStateException("fixtures/" + name + " not found above " + here);
    }
}
