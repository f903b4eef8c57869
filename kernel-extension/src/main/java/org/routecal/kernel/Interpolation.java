package org.routecal.kernel;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code ${name}} in magic arguments → the value of the notebook variable {@code name}, so parameter cells
 * (papermill-style) drive magics: {@code %route --model ${model} --max-samples ${samples}}. One rule for every kernel.
 */
final class Interpolation {
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)}");

    /** Looks a variable up in the notebook. */
    @FunctionalInterface
    interface Lookup {
        Object value(String name) throws Exception;
    }

    private Interpolation() {}

    static List<String> apply(List<String> args, Lookup lookup) throws Exception {
        List<String> out = new ArrayList<>(args.size());
        for (String a : args) {
            Matcher m = VARIABLE.matcher(a);
            StringBuilder sb = new StringBuilder();
            while (m.find()) m.appendReplacement(sb, Matcher.quoteReplacement(String.valueOf(lookup.value(m.group(1)))));
            m.appendTail(sb);
            out.add(sb.toString());
        }
        return out;
    }
}
