package org.routecal.tokenize;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * DJL extracts its bundled native tokenizer library into a cache directory at first use ({@code ~/.djl.ai} by
 * default). We keep that default when the home directory is writable, fall back to {@code java.io.tmpdir} when it is
 * not (read-only homes on clusters), and always run DJL offline so that it never tries to download anything.
 */
final class DjlSetup {
    private static boolean done;

    private DjlSetup() { }

    static synchronized void configure() {
        if (done) return;
        done = true;
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        if (System.getProperty("DJL_CACHE_DIR") != null || System.getenv("DJL_CACHE_DIR") != null) return;
        Path home = Path.of(System.getProperty("user.home", "."));
        Path cache = home.resolve(".djl.ai");
        boolean usable = Files.isDirectory(cache) ? Files.isWritable(cache) : Files.isWritable(home);
        if (!usable) {
            System.setProperty("DJL_CACHE_DIR", Path.of(System.getProperty("java.io.tmpdir"), "routecal-djl-" + System.getProperty("user.name", "user")).toString());
        }
    }
}
