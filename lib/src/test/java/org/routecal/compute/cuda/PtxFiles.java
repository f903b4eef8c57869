package org.routecal.compute.cuda;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** Paths and process helpers shared by the PTX tests (the working directory of surefire is lib/). */
final class PtxFiles {
    static final Path CUDA_DIR = Path.of("..", "cuda");
    static final Path COMMITTED = Path.of("src", "main", "resources", "org", "routecal", "compute", "cuda", "ptx");

    private PtxFiles() {}

    static List<String> modules() throws IOException {
        try (Stream<Path> s = Files.list(CUDA_DIR)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).map(n -> n.substring(0, n.length() - 3))
                    .sorted().toList();
        }
    }

    /** True when {@code tool} runs (e.g. nvcc, ptxas on PATH). */
    static boolean onPath(String tool) {
        try {
            Process p = new ProcessBuilder(tool, "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Runs a command, returning its exit code and combined output. */
    static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(-1, out + "\n(timed out)");
        }
        return new Result(p.exitValue(), out);
    }

    record Result(int code, String output) {}
}
