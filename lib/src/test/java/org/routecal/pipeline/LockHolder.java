package org.routecal.pipeline;

import java.nio.file.Path;

/** A second process for {@link OutputDirManifestTest}: opens an output, says "locked", and waits to be killed. */
public final class LockHolder {
    private LockHolder() {}

    public static void main(String[] args) throws Exception {
        OutputDir d = OutputDir.of("synthesize", Path.of(args[0])).resume(true).open();
        System.out.println("locked");
        System.out.flush();
        Thread.sleep(120_000);
        d.close();
    }
}
