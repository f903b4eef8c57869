package org.routecal.pipeline;

import org.routecal.RoutecalException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 as lowercase hex, the one hashing helper; files hashed as a stream (1 MB buffer) so size does not matter. */
public final class Sha256 {
    private Sha256() {}

    public static String of(Path file) {
        MessageDigest md = digest();
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        } catch (NoSuchFileException e) {
            throw new RoutecalException(file + ": file not found (hashing input)");
        } catch (IOException e) {
            throw new RoutecalException(file + ": cannot read for hashing: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** The hash of the parts one after the other (as if concatenated). */
    public static String of(byte[]... parts) {
        MessageDigest md = digest();
        for (byte[] p : parts) md.update(p);
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JRE has SHA-256", e);
        }
    }
}
