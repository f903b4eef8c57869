package org.routecal.kernel;

import org.routecal.RoutecalException;
import org.routecal.cli.Main;
import org.routecal.session.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code routecal kernel install}: writes the Jupyter kernelspec ({@code kernel.json}) that starts
 * {@link RoutecalKernel} with this JDK, the Vector API module, the chosen heap and absolute paths to routecal's jars.
 */
@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Install the routecal Jupyter kernelspec (kernel name 'routecal', language java).")
public final class KernelInstallCommand implements StageCommand, ShellOnly {

    static final class Location {
        @Option(names = "--user", description = "Install for this user (the default): $JUPYTER_DATA_DIR or ~/.local/share/jupyter.")
        boolean user;
        @Option(names = "--prefix", paramLabel = "DIR", description = "Install under DIR/share/jupyter/kernels (e.g. a conda env or a temp dir).")
        Path prefix;
    }

    @ArgGroup(exclusive = true)
    Location location = new Location();

    @Option(names = "--name", defaultValue = "routecal", description = "Kernel name (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--display-name", description = "Name shown in Jupyter's launcher (default: routecal (Java N)).")
    String displayName;

    @Option(names = "--heap", defaultValue = "4g", paramLabel = "SIZE",
            description = "Maximum heap of the kernel JVM, as for -Xmx (default: ${DEFAULT-VALUE}).")
    String heap;

    @Option(names = "--classpath", paramLabel = "PATH",
            description = "Extra class path entries for the kernel, separated by ':'.")
    String extraClasspath;

    @Option(names = "--jvm-option", paramLabel = "OPT", description = "Extra JVM option for the kernel (repeatable).")
    List<String> jvmOptions = new ArrayList<>();

    @Override
    public Object execute(Progress progress) {
        if (!name.matches("[A-Za-z0-9._-]+")) {
            throw new RoutecalException("--name " + name + ": a kernel name may use only letters, digits, '.', '_' and '-'");
        }
        if (!heap.matches("[0-9]+[kKmMgGtT]?")) {
            throw new RoutecalException("--heap " + heap + ": expected a size such as 4g or 8192m");
        }
        if (ModuleLayer.boot().findModule("jdk.jshell").isEmpty()) {
            throw new RoutecalException("this Java (" + System.getProperty("java.home") + ") has no jdk.jshell module: "
                    + "the kernel needs a JDK, not a JRE; run routecal with a JDK's java");
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path dir = kernelsDir().resolve(name);
        Map<String, Object> spec = new LinkedHashMap<>();
        List<String> argv = new ArrayList<>();
        argv.add(java.toString());
        argv.add("--add-modules");
        argv.add("jdk.incubator.vector");
        argv.add("-Xmx" + heap);
        argv.addAll(collectorDefaults(jvmOptions));
        argv.addAll(jvmOptions);
        argv.add("-cp");
        argv.add(classPath());
        argv.add(RoutecalKernel.class.getName());
        argv.add("{connection_file}");
        spec.put("argv", argv);
        spec.put("display_name", displayName != null ? displayName : "routecal (Java " + Runtime.version().feature() + ")");
        spec.put("language", "java");
        spec.put("interrupt_mode", "message");
        spec.put("env", Map.of());
        spec.put("metadata", Map.of("routecal", Map.of("heap", heap)));
        try {
            org.routecal.io.AtomicFiles.writeJson(dir.resolve("kernel.json"), spec);
        } catch (RoutecalException e) {
            throw new RoutecalException("cannot write the kernelspec in " + dir + ": " + e.getMessage(), e);
        }
        return "installed kernelspec '" + name + "' in " + dir;
    }

    /** Absolute paths of the jars (or class folders) holding routecal's CLI and this kernel, plus --classpath. */
    private String classPath() {
        List<String> entries = new ArrayList<>();
        for (Class<?> c : new Class<?>[] {Main.class, RoutecalKernel.class}) {
            String p = codeSource(c);
            if (!entries.contains(p)) entries.add(p);
        }
        if (extraClasspath != null) {
            for (String e : extraClasspath.split(File.pathSeparator)) {
                if (e.isBlank()) continue;
                String abs = Path.of(e).toAbsolutePath().normalize().toString();
                if (!entries.contains(abs)) entries.add(abs);
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static String codeSource(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath().toString();
        } catch (URISyntaxException | NullPointerException e) {
            throw new RoutecalException("cannot locate the jar of " + c.getName() + " to write into the kernelspec", e);
        }
    }

    private Path kernelsDir() {
        if (location.prefix != null) return location.prefix.toAbsolutePath().resolve("share/jupyter/kernels");
        String dataDir = System.getenv("JUPYTER_DATA_DIR");
        Path base = dataDir != null && !dataDir.isBlank() ? Path.of(dataDir)
                : Path.of(System.getProperty("user.home"), ".local", "share", "jupyter");
        return base.resolve("kernels");
    }

    /**
     * The collector options routecal's JVMs get unless {@code options} pick their own, as ./routecal does: G1 with
     * 32 MB regions. On one CPU the JVM would pick Serial, under which the CPU kernels' matmul ran 25–30 % slower, and
     * with small regions every activation of a few MB is a humongous object that starts a concurrent mark
     * (bench/CPU-RESULTS.md, "The collector").
     */
    static List<String> collectorDefaults(List<String> options) {
        if (options.stream().anyMatch(o -> o.matches("-XX:\\+Use\\w*GC"))) return List.of();
        if (options.stream().anyMatch(o -> o.contains("G1HeapRegionSize"))) return List.of("-XX:+UseG1GC");
        return List.of("-XX:+UseG1GC", "-XX:G1HeapRegionSize=32m");
    }
}
