package org.routecal.demo;

import org.routecal.session.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code routecal demo [--out DIR]}: the whole loop offline on the embedded demo model and corpus. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Run the whole pipeline offline on the embedded demo model and corpus: route, bracket, extract, "
                + "refine (local pool), quantize (GPTQ W4) per calibration set × MoE mode, evaluate, and write DIR/report.html "
                + "with the evidence table.")
public final class DemoCommand implements StageCommand {
    @Option(names = "--out", defaultValue = "runs/demo", description = "run directory (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--size", defaultValue = "full", description = "full (README) or small (CI: same code path, fewer samples)")
    String size;

    @Option(names = "--seed", defaultValue = "0", description = "seed of every split and selection (default ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--overwrite", description = "replace an earlier demo run in --out")
    boolean overwrite;

    @Option(names = "--cache", description = "where the generated demo model is cached (default $ROUTECAL_CACHE or ~/.cache/routecal)")
    Path cache;

    @picocli.CommandLine.Mixin
    org.routecal.compute.devices.DeviceOptions device = new org.routecal.compute.devices.DeviceOptions();

    @Override
    public Object execute(org.routecal.session.Session session) throws Exception {
        if (!size.equals("full") && !size.equals("small")) throw new org.routecal.RoutecalException("--size must be full or small, got " + size);
        return DemoPipeline.run(new DemoPipeline.Settings(out, size, seed, overwrite, cache, device), session);
    }
}
