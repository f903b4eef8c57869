package org.routecal.kernel;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.github.spencerpark.jupyter.kernel.display.DisplayData;
import org.dflib.jjava.jupyter.Extension;
import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.magic.MagicsRegistry;
import org.routecal.report.Chart;
import org.routecal.report.Displayable;
import tech.tablesaw.api.Table;

import java.util.Map;

/**
 * routecal inside JJava (org.dflib.jjava, the maintained IJava fork, 1.0): a JJava {@link Extension}, found by
 * JJava's ServiceLoader when the jars are added, so no registration call is needed:
 * <pre>{@code
 * %classpath /path/to/routecal.jar /path/to/routecal-kernel.jar
 * }</pre>
 * JJava renamed basekernel's packages ({@code org.dflib.jjava.jupyter…}), so this adapter compiles against JJava's
 * base library and converts routecal's display bundles into JJava's.
 */
public final class JJavaSupport implements Extension {
    private static final Gson GSON = new Gson();

    @Override
    public void install(BaseKernel kernel) {
        HostedMagics hosted = new HostedMagics(new NotebookHost() {
            @Override public Object eval(String java) { return kernel.evalRaw(java); }
            @Override public void display(DisplayData d) { kernel.getIO().display.display(convert(d)); }
            @Override public void updateDisplay(String id, DisplayData d) { kernel.getIO().display.updateDisplay(id, convert(d)); }
        });
        MagicsRegistry magics = kernel.getMagicsRegistry();
        for (String name : hosted.names()) magics.registerLineMagic(name, (k, args) -> hosted.line(name, args));
        magics.registerCellMagic("config", (k, args, body) -> hosted.config(args, body));
        for (Class<?> type : new Class<?>[] {Table.class, Chart.class, Displayable.class}) {
            kernel.getRenderer().createRegistration(type).register((value, ctx) ->
                    ctx.getOutputContainer().assign(convert(hosted.renderShowingAllButLast(value))));
        }
        try {
            hosted.install();
        } catch (Exception e) {
            throw new IllegalStateException("routecal: the notebook imports failed: " + e, e);
        }
    }

    /** basekernel's bundle → JJava's: both serialize to Jupyter's {data, metadata, transient} JSON, read back here. */
    static org.dflib.jjava.jupyter.kernel.display.DisplayData convert(DisplayData d) {
        JsonObject json = GSON.toJsonTree(d).getAsJsonObject();
        org.dflib.jjava.jupyter.kernel.display.DisplayData out = new org.dflib.jjava.jupyter.kernel.display.DisplayData();
        if (json.has("data")) {
            for (Map.Entry<String, JsonElement> e : json.getAsJsonObject("data").entrySet()) {
                JsonElement v = e.getValue();
                out.putData(e.getKey(), v.isJsonPrimitive() ? v.getAsString() : v);
            }
        }
        if (d.hasDisplayId()) out.setDisplayId(d.getDisplayId());
        return out;
    }
}
