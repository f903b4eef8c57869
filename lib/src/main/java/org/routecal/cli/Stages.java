package org.routecal.cli;

import org.routecal.session.StageCommand;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;
import picocli.CommandLine;

import java.util.List;

/**
 * Runs a subcommand from Java with exactly the CLI's parser and returns its result object: what the demo pipeline and
 * notebook code use when options come from variables, e.g.
 * {@code var r = (RouteResult) Stages.run("route", "--model", model, "--corpus", corpus, "--out", out);}.
 */
public final class Stages {
    private Stages() {}

    public static Object run(String... args) throws Exception {
        return run(Progress.NONE, args);
    }

    public static Object run(Progress progress, String... args) throws Exception {
        try (org.routecal.session.Session session = new org.routecal.session.Session(progress)) {
            return run(session, args);
        }
    }

    /** Runs a subcommand in an open session: models and the backend stay loaded across calls (demo, notebooks). */
    public static Object run(org.routecal.session.Session session, String... args) throws Exception {
        CommandLine.ParseResult parsed;
        try {
            parsed = Main.commandLine().parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            throw new RoutecalException(e.getMessage(), e);
        }
        List<CommandLine> chain = parsed.asCommandLineList();
        Object command = chain.get(chain.size() - 1).getCommand();
        if (!(command instanceof StageCommand stage)) {
            throw new RoutecalException("'" + (args.length == 0 ? "" : args[0]) + "' is not a stage command");
        }
        return stage.execute(session);
    }
}
