package org.routecal.synth;

import org.routecal.RoutecalException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prompt templates: resources under {@code org/routecal/synth/} that a user can override by putting a file of the
 * same name in {@code --prompt-dir}. Placeholders are {@code {{name}}}; rendering fails on a placeholder with no
 * value (naming the template), so an edited template cannot silently lose its evidence.
 */
public final class PromptTemplates {
    private static final Pattern VAR = Pattern.compile("\\{\\{([a-z_]+)}}");
    private final Path overrideDir;

    /** {@code overrideDir} may be null (resources only). */
    public PromptTemplates(Path overrideDir) {
        this.overrideDir = overrideDir;
    }

    /** The template text, from the override directory if it has the file, else the bundled resource. */
    public String load(String name) {
        if (overrideDir != null) {
            Path p = overrideDir.resolve(name);
            if (Files.isRegularFile(p)) {
                try {
                    return Files.readString(p);
                } catch (IOException e) {
                    throw new RoutecalException("cannot read prompt template " + p + ": " + e.getMessage(), e);
                }
            }
        }
        try (InputStream in = PromptTemplates.class.getResourceAsStream(name)) {
            if (in == null) throw new RoutecalException("no prompt template named " + name + " (bundled or in " + overrideDir + ")");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new RoutecalException("cannot read bundled prompt template " + name + ": " + e.getMessage(), e);
        }
    }

    /** Where {@code name} comes from, for manifests: the override file or {@code resource:name}. */
    public String source(String name) {
        if (overrideDir != null && Files.isRegularFile(overrideDir.resolve(name))) return overrideDir.resolve(name).toString();
        return "resource:" + name;
    }

    /** The one-line context of {@code domain} from {@code domains.properties} (its {@code default} entry when absent). */
    public String domainContext(String domain) {
        java.util.Properties p = new java.util.Properties();
        try {
            p.load(new java.io.StringReader(load("domains.properties")));
        } catch (IOException e) {
            throw new RoutecalException("cannot parse domains.properties: " + e.getMessage(), e);
        }
        return p.getProperty(domain, p.getProperty("default", "text of this domain"));
    }

    /** Loads and fills {@code name}. */
    public String render(String name, Map<String, String> values) {
        return fill(name, load(name), values);
    }

    /** Replaces every {@code {{key}}} in {@code template}; a placeholder without a value is an error. */
    public static String fill(String name, String template, Map<String, String> values) {
        Matcher m = VAR.matcher(template);
        StringBuilder sb = new StringBuilder();
        Set<String> missing = new LinkedHashSet<>();
        while (m.find()) {
            String v = values.get(m.group(1));
            if (v == null) {
                missing.add(m.group(1));
                v = m.group();
            }
            m.appendReplacement(sb, Matcher.quoteReplacement(v));
        }
        m.appendTail(sb);
        if (!missing.isEmpty()) throw new RoutecalException("prompt template " + name + ": no value for " + missing + " (known: " + values.keySet() + ")");
        return sb.toString();
    }
}
