package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import org.routecal.RoutecalException;

import java.util.ArrayList;
import java.util.List;

/**
 * routecal's magics inside another Java kernel (IJava, JJava): the same parsing, {@code ${var}} interpolation,
 * {@code --as NAME} binding, {@code %%config} defaults and progress bars as in routecal's kernel, through a
 * {@link NotebookHost}. Those kernels pass a magic line's rest verbatim, so a trailing {@code ;} (written out of Java
 * habit) is dropped rather than becoming part of the last argument.
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
        return List.copyOf(runner.magics().keySet());
    }

    void install() throws Exception {
        host.eval(IMPORTS);
    }

    Object line(String name, List<String> rawArgs) throws Exception {
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
                return null;
            }
            return o.value();
        } catch (CellException e) {
            throw new RoutecalException(String.join("\n", e.traceback()));
        }
    }

    Object config(List<String> args, String body) {
        try {
            return runner.runConfig(args, body);
        } catch (CellException e) {
            throw new RoutecalException(String.join("\n", e.traceback()));
        }
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
