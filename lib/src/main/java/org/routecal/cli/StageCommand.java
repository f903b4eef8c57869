package org.routecal.cli;

import org.routecal.pipeline.Progress;

/**
 * A CLI subcommand (a picocli {@code @Command} class) that is also a notebook magic. Parsing is picocli's, the same for
 * both shells; {@link #execute} calls the pipeline API and returns the result object. The CLI prints
 * {@link Object#toString()} of that result; the kernel renders it richly (tables, figures) and can bind it to a variable.
 * No stage logic lives in a command class.
 */
public interface StageCommand {
    Object execute(Progress progress) throws Exception;
}
