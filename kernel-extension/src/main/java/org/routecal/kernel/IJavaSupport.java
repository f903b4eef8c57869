package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.display.mime.MIMEType;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import org.routecal.RoutecalException;
import org.routecal.report.Displayable;
import tech.tablesaw.api.Table;
import tech.tablesaw.plotly.components.Figure;

import java.util.List;

/**
 * Loads routecal's magics and displays into a stock IJava kernel (same jupyter-jvm-basekernel), from a notebook cell:
 * <pre>{@code
 * %jars /path/to/routecal.jar /path/to/routecal-kernel.jar
 * org.routecal.kernel.IJavaSupport.register(io.github.spencerpark.ijava.IJava.getKernelInstance());
 * }</pre>
 * Then {@code %route …}, {@code %%config} and the other magics work, and Tablesaw tables, Plotly figures and
 * {@link Displayable} results render as in the routecal kernel. IJava runs magics inside its own JShell call, so a
 * magic cannot declare a variable there: instead of {@code --as r}, write {@code var r = (RouteResult) %route …;}.
 */
public final class IJavaSupport {
    private IJavaSupport() {}

    /** Registers into a kernel that has IJava's {@code getMagics()} (found reflectively: IJava is not our dependency). */
    public static String register(Object ijavaKernel) {
        if (!(ijavaKernel instanceof BaseKernel kernel)) {
            throw new RoutecalException("IJavaSupport.register needs the IJava kernel instance (IJava.getKernelInstance()), got "
                    + (ijavaKernel == null ? "null" : ijavaKernel.getClass().getName()));
        }
        Magics magics;
        try {
            magics = (Magics) kernel.getClass().getMethod("getMagics").invoke(kernel);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new RoutecalException("this kernel (" + kernel.getClass().getName() + ") has no IJava getMagics(): " + e, e);
        }
        int n = registerInto(magics, kernel.getRenderer(), kernel::display);
        return "routecal: " + n + " magics and the Table, Figure and Displayable renderers registered";
    }

    /** Registers the magics and renderers; {@code display} publishes progress bars. Returns the number of magics. */
    static int registerInto(Magics magics, Renderer renderer, java.util.function.Consumer<DisplayData> display) {
        MagicRunner runner = new MagicRunner();
        Rendering rendering = new Rendering();
        OutputSink sink = new OutputSink() {
            @Override public void display(DisplayData d) { display.accept(d); }
            // basekernel 2.3 has no public update for a kernel's own displays outside its IO; a progress bar in IJava
            // shows its start only, and the finished result follows.
            @Override public void updateDisplay(String id, DisplayData d) {}
        };
        List<String> names = List.copyOf(runner.magics().keySet());
        for (String name : names) {
            magics.registerLineMagic(name, args -> {
                if (args.stream().anyMatch(a -> a.equals("--as") || a.startsWith("--as="))) {
                    throw new RoutecalException("--as is not available under IJava: write var r = (Type) %" + name + " …;");
                }
                try {
                    return runner.runLine(name, args, new KernelProgress(sink)).value();
                } catch (CellException e) {
                    throw new RoutecalException(String.join("\n", e.traceback()));
                }
            });
        }
        magics.registerCellMagic("config", (args, body) -> {
            try {
                return runner.runConfig(args, body);
            } catch (CellException e) {
                throw new RoutecalException(String.join("\n", e.traceback()));
            }
        });
        renderer.createRegistration(Table.class).preferring(MIMEType.TEXT_HTML)
                .register((t, ctx) -> ctx.renderIfRequested(MIMEType.TEXT_HTML, () -> html(rendering.render(t))));
        renderer.createRegistration(Figure.class).preferring(MIMEType.TEXT_HTML)
                .register((f, ctx) -> ctx.renderIfRequested(MIMEType.TEXT_HTML, () -> html(rendering.render(f))));
        renderer.createRegistration(Displayable.class).preferring(MIMEType.TEXT_HTML)
                .register((r, ctx) -> ctx.renderIfRequested(MIMEType.TEXT_HTML, () -> html(rendering.render(r))));
        return names.size() + 1;
    }

    /** One HTML string for a renderer registration (IJava shows one bundle per value). */
    private static String html(List<DisplayData> parts) {
        StringBuilder b = new StringBuilder();
        for (DisplayData d : parts) {
            Object h = d.getData(MIMEType.TEXT_HTML);
            if (h != null) b.append(h);
            else b.append(org.routecal.report.Html.pre(String.valueOf(d.getData(MIMEType.TEXT_PLAIN))));
        }
        return b.toString();
    }
}
