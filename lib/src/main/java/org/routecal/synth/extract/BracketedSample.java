package org.routecal.synth.extract;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.io.Jsonl;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One record of {@code bracketed_{mode}.jsonl} (written by the route stage): {@code {domain, sample_id, mode,
 * n_tokens_total, n_tokens_blue, n_tokens_red, text}} where {@code text} wraps token runs in {@code <red>…</red>} /
 * {@code <blue>…</blue>}.
 */
public record BracketedSample(String domain, String sampleId, String mode, int nTokensTotal, int nTokensBlue,
                              int nTokensRed, String text) {

    private static final Pattern TAG = Pattern.compile("<(/?)(red|blue)>");

    /** A run of text and its label: {@code red}, {@code blue} or {@code plain}. */
    public record Span(String label, String text) {}

    /** Share of the sample's tokens labelled red. */
    public double redShare() { return nTokensTotal == 0 ? 0 : (double) nTokensRed / nTokensTotal; }

    /** The text cut into labelled spans (tags removed); unbalanced tags are an error naming the sample. */
    public List<Span> spans() {
        List<Span> out = new ArrayList<>();
        Matcher m = TAG.matcher(text);
        int pos = 0;
        String open = null;
        while (m.find()) {
            String piece = text.substring(pos, m.start());
            if (!piece.isEmpty()) out.add(new Span(open == null ? "plain" : open, piece));
            boolean closing = !m.group(1).isEmpty();
            if (closing != (open != null) || (closing && !open.equals(m.group(2)))) {
                throw new RoutecalException("bracketed sample " + sampleId + ": unbalanced tag " + m.group() + " at char " + m.start());
            }
            open = closing ? null : m.group(2);
            pos = m.end();
        }
        if (open != null) throw new RoutecalException("bracketed sample " + sampleId + ": <" + open + "> never closed");
        if (pos < text.length()) out.add(new Span("plain", text.substring(pos)));
        return out;
    }

    /** The text with the tags removed. */
    public String plainText() { return TAG.matcher(text).replaceAll(""); }

    /** Reads a bracketed JSONL file; a missing field is an error naming the file and line. */
    public static List<BracketedSample> read(Path file) {
        if (!java.nio.file.Files.exists(file)) throw new RoutecalException("bracketed file not found: " + file);
        List<BracketedSample> out = new ArrayList<>();
        int line = 0;
        for (JsonNode n : Jsonl.readObjects(file)) {
            line++;
            out.add(new BracketedSample(str(n, "domain", file, line), str(n, "sample_id", file, line), str(n, "mode", file, line),
                    integer(n, "n_tokens_total", file, line), integer(n, "n_tokens_blue", file, line),
                    integer(n, "n_tokens_red", file, line), str(n, "text", file, line)));
        }
        return out;
    }

    private static String str(JsonNode n, String field, Path file, int line) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) throw new RoutecalException(file + " record " + line + ": missing field '" + field + "'");
        return v.asText();
    }

    private static int integer(JsonNode n, String field, Path file, int line) {
        JsonNode v = n.get(field);
        if (v == null || !v.canConvertToInt()) throw new RoutecalException(file + " record " + line + ": field '" + field + "' must be an integer");
        return v.asInt();
    }
}
