package org.routecal.demo;

import org.routecal.session.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code routecal demo-assets --out DIR}: writes the demo model and corpus files (for notebooks and fixture scripts). */
@CommandLine.Command(name = "demo-assets", mixinStandardHelpOptions = true,
        description = "Write the generated demo model (DIR/model) and demo corpus/pool (DIR/*.jsonl).")
public final class DemoAssetsCommand implements StageCommand {
    @CommandLine.Option(names = "--out", required = true, description = "Output directory (created; must be empty or absent).")
    Path out;

    /** Where the files went. */
    public record Result(Path dir, Path modelDir, Path corpus, Path pool, double seconds) {
        @Override public String toString() {
            return String.format(java.util.Locale.ROOT, "demo model: %s%ndemo corpus: %s%ncandidate pool: %s%n(%.1f s)",
                    modelDir, corpus, pool, seconds);
        }
    }

    @Override
    public Object execute(Progress progress) throws Exception {
        if (Files.isDirectory(out)) {
            try (var entries = Files.list(out)) {
                if (entries.findAny().isPresent()) {
                    throw new org.routecal.RoutecalException("--out " + out + " is not empty");
                }
            }
        }
        long t0 = System.nanoTime();
        progress.start("demo assets", -1);
        // Generate next to the target and rename: a failed or killed run leaves no half-written --out.
        Path abs = out.toAbsolutePath();
        Path tmp = org.routecal.io.AtomicFiles.tempDirectory(abs);
        try {
            DemoAssets.writeTo(tmp);
            Files.deleteIfExists(abs); // an empty directory, checked above
            org.routecal.io.AtomicFiles.commitDirectory(tmp, abs);
        } finally {
            org.routecal.io.AtomicFiles.deleteTree(tmp);
        }
        progress.finish();
        return new Result(out, out.resolve("model"), out.resolve(DemoCorpus.CORPUS), out.resolve(DemoCorpus.POOL),
                (System.nanoTime() - t0) / 1e9);
    }
}
