package org.routecal.kernel;

import io.github.spencerpark.jupyter.kernel.BaseKernel;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import io.github.spencerpark.jupyter.kernel.display.Renderer;
import io.github.spencerpark.jupyter.kernel.magic.registry.Magics;
import org.routecal.RoutecalException;
import org.routecal.report.Chart;
import org.routecal.report.Displayable;
import tech.tablesaw.api.Table;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * Loads routecal's magics and displays into a stock IJava 1.3 kernel (same jupyter-jvm-basekernel), from a cell:
 * <pre>{@code
 * %jars /path/to/routecal.jar /path/to/routecal-kernel.jar
 * org.routecal.kernel.IJavaSupport.register(io.github.spencerpark.ijava.IJava.getKernelInstance());
 * }</pre>
 * Then {@code %route … --as r}, {@code ${var}}, {@code %%config} and progress bars work as in routecal's kernel, and
 * tables, charts and {@link Displayable} results render the same way. {@code java.nio.file.*},
 * {@code tech.tablesaw.api.*} and {@code org.routecal.report.*} are imported. IJava also accepts a magic right after
 * {@code =}: {@code RouteResult r = %route …} (a declared type, no cast; IJava sees no magic after a cast).
 * IJava is found reflectively: it is not on Maven Central, so not our dependency.
 */
public final class IJavaSupport {
    private IJavaSupport() {}

    /** Registers into IJava's kernel ({@code IJava.getKernelInstance()}); returns a one-line summary. */
    public static String register(Object ijavaKernel) throws Exception {
        if (!(ijavaKernel instanceof BaseKernel kernel)) {
            throw new RoutecalException("IJavaSupport.register needs the IJava kernel instance (IJava.getKernelInstance()), got "
                    + (ijavaKernel == null ? "null" : ijavaKernel.getClass().getName())
                    + (ijavaKernel != null && ijavaKernel.getClass().getName().startsWith("org.dflib.jjava")
                    ? ": under JJava nothing is needed, %classpath of the two jars loads routecal (JJavaSupport)" : ""));
        }
        Magics magics;
        Method evalRaw;
        try {
            magics = (Magics) kernel.getClass().getMethod("getMagics").invoke(kernel);
            evalRaw = kernel.getClass().getMethod("evalRaw", String.class);
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new RoutecalException("this kernel (" + kernel.getClass().getName() + ") is not IJava 1.3 (no getMagics/evalRaw): " + e, e);
        }
        HostedMagics hosted = new HostedMagics(new NotebookHost() {
            @Override public Object eval(String java) throws Exception {
                try {
                    return evalRaw.invoke(kernel, java);
                } catch (InvocationTargetException e) {
                    throw e.getCause() instanceof Exception ex ? ex : e;
                }
            }
            @Override public void display(DisplayData d) { kernel.getIO().display.display(d); }
            @Override public void updateDisplay(String id, DisplayData d) { kernel.getIO().display.updateDisplay(id, d); }
        });
        int n = registerInto(magics, kernel.getRenderer(), hosted);
        hosted.install();
        return "routecal: " + n + " magics and the Table, Chart and Displayable renderers registered";
    }

    /** Registers the magics and renderers; returns the number of magics. */
    static int registerInto(Magics magics, Renderer renderer, HostedMagics hosted) {
        for (String name : hosted.names()) magics.registerLineMagic(name, args -> hosted.line(name, args));
        magics.registerCellMagic("config", hosted::config);
        for (Class<?> type : new Class<?>[] {Table.class, Chart.class, Displayable.class}) {
            renderer.createRegistration(type).register((value, ctx) ->
                    ctx.getOutputContainer().assign(hosted.renderShowingAllButLast(value)));
        }
        return hosted.names().size() + 1;
    }
}
