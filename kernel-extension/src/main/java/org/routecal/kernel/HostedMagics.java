package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import org.routecal.RoutecalException;

import java.util.ArrayList;
import java.util.List;

/**
 * routecal's magics inside another Java kernel (IJava, JJava): the same parsing, {@code ${var}} interpolation,
 * {@code --as NAME} binding, {@code %%config} defaults and progress bars as in routecal's kernel, through a
 * {@link NotebookHost}. Those kernels pass a magic line's rest verbatim, so a trailing {@code ;} (written out of Java
 * habit) is dropped rather than becoming part of the last argument. They also turn a magic into a statement
 * ({@code lineMagic(…);{};}), so its value is never the cell's result: the result is displayed here, as routecal's
 * kernel shows it. The CLI's command tree is built with this class's loader as context loader, because those kernels
 * load routecal's jars in JShell's loader, which their threads' context loader does not see.
 */
final class HostedMagics {
    /** What {@link #install} imports into the notebook, so the README's cells compile as written. */
    static final String IMPORTS = "import java.nio.file.*; import tech.tablesaw.api.*; import org.routecal.report.*;";

    private final NotebookHost host;
    private final MagicRunner runner = new MagicRunner();
    final Rendering rendering = new Rendering();

    HostedMagics(NotebookHost host) {
        this.host = host;
    }

    List<String> names() {
        return withOwnLoader(() -> List.copyOf(runner.magics().keySet()));
    }

    private interface Work<T> {
        T run() throws Exception;
    }

    private static <T> T withOwnLoader(Work<T> work) throws RuntimeException {
        Thread t = Thread.currentThread();
        ClassLoader old = t.getContextClassLoader();
        t.setContextClassLoader(HostedMagics.class.getClassLoader());
        try {
            return work.run();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new RoutecalException(e.getMessage() == null ? e.toString() : e.getMessage(), e);
        } finally {
            t.setContextClassLoader(old);
        }
    }

    void install() throws Exception {
        host.eval(IMPORTS);
    }

    Object line(String name, List<String> rawArgs) {
        return withOwnLoader(() -> runLine(name, rawArgs));
    }

    private Object runLine(String name, List<String> rawArgs) throws Exception {
        List<String> args = new ArrayList<>(rawArgs);
        if (!args.isEmpty()) {
            String last = args.get(args.size() - 1);
            if (last.equals(";")) args.remove(args.size() - 1);
            else if (last.endsWith(";")) args.set(args.size() - 1, last.substring(0, last.length() - 1));
        }
        try {
            MagicRunner.Outcome o = runner.runLine(name, Interpolation.apply(args, host::eval), new KernelProgress(host));
            if (o.bindAs() != null) {
                if (o.value() == null) throw new RoutecalException("%" + name + " returned no result to bind to " + o.bindAs());
                host.eval("var " + o.bindAs() + " = (" + Results.publicTypeName(o.value()) + ") org.routecal.kernel.Results.take(\""
                        + Results.put(o.value()) + "\");");
            }
            rendering.render(o.value()).forEach(host::display);
            return o.value();
        } catch (CellException e) {
            throw new RoutecalException(String.join("\n", e.traceback()));
        }
    }

    Object config(List<String> args, String body) {
        return withOwnLoader(() -> {
            try {
                String described = runner.runConfig(args, body);
                host.display(new DisplayData(described));
                return described;
            } catch (CellException e) {
                throw new RoutecalException(String.join("\n", e.traceback()));
            }
        });
    }

    /**
     * The bundles of a value: all but the last are displayed now, the last is returned for the kernel's own result
     * (those kernels show one bundle per value).
     */
    DisplayData renderShowingAllButLast(Object value) {
        List<DisplayData> all = rendering.render(value);
        for (int i = 0; i < all.size() - 1; i++) host.display(all.get(i));
        return all.isEmpty() ? new DisplayData("") : all.get(all.size() - 1);
    }
}
