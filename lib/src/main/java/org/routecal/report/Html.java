package org.routecal.report;

/** HTML text helpers shared by the table, figure and page writers. */
public final class Html {
    private Html() {}

    /** Escapes text for an HTML element body or a double-quoted attribute. */
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

    /** Reverses the entity escapes Tablesaw's Pebble templates apply to titles (the five XML entities). */
    static String unescapeBasic(String s) {
        if (s.indexOf('&') < 0) return s;
        return s.replace("&#39;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">")
                .replace("&amp;", "&");
    }

    /** Text in a monospace block. */
    public static String pre(String text) {
        return "<pre class=\"rc-text\">" + escape(text) + "</pre>";
    }
}
