package org.routecal.kernel;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Class path entries as users write them in {@code %jars}/{@code %classpath}: a path, {@code ~/…}, or a glob in its file name. */
final class Classpath {
    private Classpath() {}

    static List<Path> expand(String entry) {
        String e = entry.startsWith("~/") ? System.getProperty("user.home") + entry.substring(1) : entry;
        Path p = Path.of(e);
        String name = p.getFileName() == null ? "" : p.getFileName().toString();
        if (!name.contains("*") && !name.contains("?")) return List.of(p);
        Path dir = p.getParent() == null ? Path.of(".") : p.getParent();
        List<Path> out = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, name)) {
            s.forEach(out::add);
        } catch (IOException ex) {
            return List.of(p);
        }
        out.sort(null);
        return out;
    }
}
