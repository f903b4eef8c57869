package org.routecal.kernel;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.routecal.RoutecalException;
import org.routecal.session.StageCommand;
import org.routecal.io.AtomicFiles;
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
 * headless execution on a kernel process (routecal's own by default, {@code -k NAME} for another) in {@code --cwd}. {@code OUT} names the executed notebook ({@code .ipynb});
 * with {@code --to html} the page goes next to it. {@code OUT.html} with {@code --to html} names the page, and the
 * notebook goes next to it as {@code OUT.ipynb}.
 */
@Command(name = "run-notebook", mixinStandardHelpOptions = true,
        description = "Execute a notebook headless (papermill semantics: parameters go into a cell tagged "
                + "'injected-parameters' after the cell tagged 'parameters'). Prints each cell as it starts and ends; "
                + "the output notebook is saved after every cell.")
public final class RunNotebookCommand implements StageCommand, ShellOnly {
    @Parameters(index = "0", paramLabel = "IN.ipynb", description = "Notebook to run.")
    Path input;

    @Parameters(index = "1", paramLabel = "OUT", description = "Executed notebook to write (.ipynb), or with --to html the page (.html).")
    Path output;

    @Option(names = {"-p", "--parameter"}, paramLabel = "KEY=VALUE",
            description = "A parameter; the value is typed like YAML (8 → int, 0.5 → double, true → boolean, else text).")
    List<String> parameters = new ArrayList<>();

    @Option(names = {"-f", "--parameters-file"}, paramLabel = "FILE", description = "YAML or JSON file of parameters.")
    Path parametersFile;

    @Option(names = "--to", paramLabel = "FORMAT", description = "Also export: html (one self-contained file).")
    String to;

    @Option(names = "--log-output", description = "Echo cell outputs to stderr as they come (as papermill's --log-output).")
    boolean logOutput;

    @Option(names = {"-k", "--kernel"}, paramLabel = "NAME",
            description = "Run on this installed Jupyter kernel (e.g. ijava); default: routecal's own, with this class path.")
    String kernel;

    @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory of the kernel (default: the current one).")
    Path cwd;

    @Option(names = "--execution-timeout", paramLabel = "SECONDS",
            description = "Interrupt a cell that runs longer and fail the run with CellTimeoutError (default: no limit).")
    double executionTimeout;

    @Override
    public Object execute(Progress progress) {
        if (to != null && !to.equals("html")) throw new RoutecalException("--to " + to + ": only 'html' is supported");
        if (!Files.isRegularFile(input)) throw new RoutecalException("notebook " + input + " does not exist");
        if (executionTimeout < 0) throw new RoutecalException("--execution-timeout " + executionTimeout + ": must be ≥ 0 seconds");
        Path workDir = cwd == null ? Path.of("").toAbsolutePath() : cwd.toAbsolutePath();
        if (!Files.isDirectory(workDir)) throw new RoutecalException("--cwd " + cwd + ": not a directory");
        Path notebookOut = notebookPath(), htmlOut = to == null ? null : htmlPath();
        if (notebookOut.toAbsolutePath().normalize().equals(input.toAbsolutePath().normalize())) {
            throw new RoutecalException("the executed notebook would overwrite the input " + input + ": name another OUT");
        }
        Map<String, Object> params = new LinkedHashMap<>();
        if (parametersFile != null) org.routecal.kernel.Parameters.readFile(parametersFile, params);
        for (String kv : parameters) org.routecal.kernel.Parameters.parseAssignment(kv, params);
        ObjectNode nb = NotebookRunner.read(input);
        if (!params.isEmpty()) {
            for (String w : org.routecal.kernel.Parameters.inject(nb, params)) System.err.println("warning: " + w);
        }
        try {
            NotebookRunner.execute(nb, input, notebookOut, new NotebookRunner.Options(kernel, workDir, logOutput, executionTimeout, System.err));
        } finally {
            // Written on success and on failure (up to the failing cell), as papermill does.
            NotebookRunner.write(nb, notebookOut);
            if (htmlOut != null) {
                String title = input.getFileName().toString().replaceFirst("\\.ipynb$", "");
                AtomicFiles.writeString(htmlOut, NotebookHtml.render(nb, title));
            }
        }
        return "executed " + input + " → " + notebookOut + (htmlOut != null ? " and " + htmlOut : "");
    }

    private boolean outputIsHtml() {
        return output.getFileName().toString().endsWith(".html");
    }

    private Path notebookPath() {
        if (!outputIsHtml()) return output;
        if (to == null) throw new RoutecalException("OUT " + output + " is an .html file: add --to html, or name an .ipynb");
        return output.resolveSibling(output.getFileName().toString().replaceFirst("\\.html$", ".ipynb"));
    }

    private Path htmlPath() {
        if (outputIsHtml()) return output;
        return output.resolveSibling(output.getFileName().toString().replaceFirst("\\.ipynb$", "") + ".html");
    }
}
