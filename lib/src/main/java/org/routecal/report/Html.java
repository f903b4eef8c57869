package org.routecal.report;

/**
 * The one escaping path for everything routecal writes into HTML: {@link #escape} for text in elements and quoted
 * attributes, {@link #scriptJson} for data inside an inline {@code <script>}. No other code builds HTML from values.
 */
public final class Html {
    private Html() {}

    /** Escapes text for an HTML element body or a double- or single-quoted attribute value. */
    public static String escape(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /**
     * JSON text made safe inside an inline {@code <script>}: {@code <}, {@code >} and {@code &} become {@code \u003c},
     * {@code \u003e} and {@code \u0026} (so neither {@code </script>} nor {@code <!--} can end or change the script),
     * and U+2028/U+2029 become escapes (JavaScript before ES2019 ends a line there). These characters can occur only
     * inside JSON strings, where the escapes mean the same characters, so the value is unchanged.
     */
    public static String scriptJson(String json) {
        StringBuilder b = new StringBuilder(json.length() + 16);
        for (int i = 0; i < json.length(); i++) {
            char c = json.charAt(i);
            switch (c) {
                case '<' -> b.append("\\u003c");
                case '>' -> b.append("\\u003e");
                case '&' -> b.append("\\u0026");
                case '\u2028' -> b.append("\\u2028");
                case '\u2029' -> b.append("\\u2029");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** Text in a monospace block. */
    public static String pre(String text) {
        return "<pre class=\"rc-text\">" + escape(text) + "</pre>";
    }
}
