package org.routecal.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The registry of subcommands: name → fresh command object. One line per command; the CLI, the notebook magics and
 * the help text all read this table, so a command exists in every shell or in none.
 */
public final class Commands {
    private Commands() {}

    public static Map<String, Supplier<Object>> all() {
        Map<String, Supplier<Object>> m = new LinkedHashMap<>();
        // name → constructor; keep in pipeline order
        m.put("demo", org.routecal.demo.DemoCommand::new);
        m.put("demo-assets", org.routecal.demo.DemoAssetsCommand::new);
        m.put("inspect", InspectCommand::new);
        m.put("bench-forward", BenchCommand::new);
        m.put("route", org.routecal.route.RouteCommand::new);
        m.put("bracket", org.routecal.route.BracketCommand::new);
        m.put("extract", org.routecal.synth.cli.ExtractCommand::new);
        m.put("synthesize", org.routecal.synth.cli.SynthesizeCommand::new);
        m.put("select", org.routecal.synth.cli.SelectCommand::new);
        m.put("refine", org.routecal.synth.cli.RefineCommand::new);
        m.put("serve", org.routecal.serve.ServeCommand::new);
        m.put("quantize", org.routecal.quant.QuantizeCommand::new);
        m.put("evaluate", org.routecal.eval.EvaluateCommand::new);
        m.put("experiment", org.routecal.experiment.ExperimentCommand::new);
        return m;
    }
}
