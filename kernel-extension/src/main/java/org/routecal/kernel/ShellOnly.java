package org.routecal.kernel;

/**
 * Marks a CLI command that makes no sense inside a notebook ({@code kernel install}, {@code run-notebook}): it is not
 * offered as a magic even though it is a {@link org.routecal.session.StageCommand}.
 */
public interface ShellOnly {}
