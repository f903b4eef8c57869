package org.routecal.kernel;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.cli.StageCommand;
import org.routecal.pipeline.Progress;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code routecal run-notebook IN.ipynb OUT.ipynb [-p key=value …] [-f params.yaml] [--to html]}: papermill-style
 * headless execution in this JVM with the kernel's magics.
 */
@Command(name = "run-notebook", mixinStandardHelpOptions = true,
        description = "Execute a notebook headless (papermill semantics: parameters go into a cell tagged "
                + "'injected-parameters' after the cell tagged 'parameters').")
public final class RunNotebookCommand implements StageCommand, ShellOnly {
    @Parameters(index = "0", paramLabel = "IN.ipynb", description = "Notebook to run.")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT.ipynb", description = "Executed notebook to write.")
    Path output;

    @Option(names = {"-p", "--parameter"}, paramLabel = "KEY=VALUE",
            description = "A parameter; the value is typed like YAML (8 → int, 0.5 → double, true → boolean, else text).")
    List<String> parameters = new ArrayList<>();

    @Option(names = {"-f", "--parameters-file"}, paramLabel = "FILE", description = "YAML or JSON file of parameters.")
    Path parametersFile;

    @Option(names = "--to", paramLabel = "FORMAT", description = "Also export: html (one self-contained file next to OUT).")
    String to;

    @Override
    public Object execute(Progress progress) {
        if (to != null && !to.equals("html")) throw new RoutecalException("--to " + to + ": only 'html' is supported");
        if (!Files.isRegularFile(input)) throw new RoutecalException("notebook " + input + " does not exist");
        Map<String, Object> params = new LinkedHashMap<>();
        if (parametersFile != null) org.routecal.kernel.Parameters.readFile(parametersFile, params);
        for (String kv : parameters) org.routecal.kernel.Parameters.parseAssignment(kv, params);
        ObjectNode nb = NotebookRunner.read(input);
        if (!params.isEmpty()) {
            for (String w : org.routecal.kernel.Parameters.inject(nb, params)) System.err.println("warning: " + w);
        }
        try {
            NotebookRunner.execute(nb, input, output);
        } finally {
            // Written on success and on failure (up to the failing cell), as papermill does.
            NotebookRunner.write(nb, output);
            if (to != null) exportHtml(nb);
        }
        return "executed " + input + " → " + output + (to != null ? " and " + htmlPath() : "");
    }

    private void exportHtml(ObjectNode nb) {
        String title = input.getFileName().toString().replaceFirst("\\.ipynb$", "");
        org.routecal.report.HtmlReport.writePage(htmlPath(), NotebookHtml.render(nb, title));
    }

    private Path htmlPath() {
        String name = output.getFileName().toString().replaceFirst("\\.ipynb$", "") + ".html";
        return output.toAbsolutePath().resolveSibling(name);
    }
}
