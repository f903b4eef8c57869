package org.routecal.session;

import org.routecal.pipeline.Progress;

/**
 * A CLI subcommand (a picocli {@code @Command} class) that is also a notebook magic. Parsing is picocli's, the same for
 * both shells; {@code execute} builds the stage's typed parameters and calls the pipeline API, and returns the result
 * object. The CLI prints {@link Object#toString()} of that result; the kernel renders it richly (tables, figures) and
 * can bind it to a variable. No stage logic lives in a command class.
 *
 * <p>Implement one of the two methods: stages that load models implement {@link #execute(Session)} (the session keeps
 * models and the backend across stages); commands that need neither implement {@link #execute(Progress)}.
 */
public interface StageCommand {
    /** Runs in a session shared with other stages (demo, notebooks). */
    default Object execute(Session session) throws Exception {
        return execute(session.progress());
    }

    /** Runs on its own: opens a session for this one command and closes it after. */
    default Object execute(Progress progress) throws Exception {
        try (Session session = new Session(progress)) {
            return execute(session);
        }
    }
}
