package org.routecal.synth.extract;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which words and n-grams are over-represented in red spans versus blue spans of one domain: the evidence the
 * extraction prompt carries beside the examples, and the guideline itself when no LLM endpoint is configured.
 *
 * <p>Terms are words or single punctuation/symbol characters (lower-cased), and their n-grams (n = 1..{@code maxN}) inside
 * one span. Enrichment is the smoothed log-odds ratio
 * {@code log((r+α)/(R+α·V)) − log((b+α)/(B+α·V))} with r, b the term's counts in red and blue spans, R, B the total
 * n-gram counts of that order, V the number of distinct terms of that order and α = {@link #ALPHA}: a term never seen in
 * blue still gets a finite score, and rare terms are damped toward 0. Terms seen fewer than {@code minCount} times in
 * total are left out.
 */
public final class RedBlueStats {
    public static final double ALPHA = 0.5;
    private static final Pattern TERM = Pattern.compile("[\\p{L}\\p{N}_]+|[^\\s\\p{L}\\p{N}_]");

    /** One enriched term. */
    public record Term(String text, int n, long redCount, long blueCount, double logOdds) {}

    /** The result for one domain. */
    public record Summary(String domain, int samples, long redTerms, long blueTerms, List<Term> redEnriched, List<Term> blueEnriched) {
        /** A compact human/LLM-readable rendering. */
        public String render() {
            StringBuilder sb = new StringBuilder();
            sb.append("Domain ").append(domain).append(": ").append(samples).append(" samples, ").append(redTerms)
                    .append(" words in red spans, ").append(blueTerms).append(" in blue spans.\n");
            sb.append("Most over-represented in red spans (log-odds red vs blue; red count / blue count):\n");
            for (Term t : redEnriched) sb.append(line(t));
            sb.append("Most over-represented in blue spans:\n");
            for (Term t : blueEnriched) sb.append(line(t));
            return sb.toString();
        }

        private static String line(Term t) {
            return String.format(Locale.ROOT, "- \"%s\" (%+.2f; %d / %d)%n", t.text(), t.logOdds(), t.redCount(), t.blueCount());
        }
    }

    private RedBlueStats() {}

    /** Splits a span into terms. */
    public static List<String> terms(String text) {
        List<String> out = new ArrayList<>();
        Matcher m = TERM.matcher(text);
        while (m.find()) out.add(m.group().toLowerCase(Locale.ROOT));
        return out;
    }

    /** Enrichment of the samples (all of one domain); {@code top} terms per direction. */
    public static Summary summarize(String domain, List<BracketedSample> samples, int maxN, int minCount, int top) {
        List<Map<String, long[]>> byOrder = new ArrayList<>(); // per n: term → {red, blue}
        for (int n = 1; n <= maxN; n++) byOrder.add(new HashMap<>());
        long[] redTotal = new long[maxN + 1], blueTotal = new long[maxN + 1];
        for (BracketedSample s : samples) {
            for (BracketedSample.Span span : s.spans()) {
                int side = switch (span.label()) { case "red" -> 0; case "blue" -> 1; default -> -1; };
                if (side < 0) continue;
                List<String> ts = terms(span.text());
                for (int n = 1; n <= maxN; n++) {
                    for (int i = 0; i + n <= ts.size(); i++) {
                        String g = String.join(" ", ts.subList(i, i + n));
                        byOrder.get(n - 1).computeIfAbsent(g, k -> new long[2])[side]++;
                        if (side == 0) redTotal[n]++; else blueTotal[n]++;
                    }
                }
            }
        }
        List<Term> all = new ArrayList<>();
        for (int n = 1; n <= maxN; n++) {
            Map<String, long[]> m = byOrder.get(n - 1);
            double v = m.size();
            for (Map.Entry<String, long[]> e : m.entrySet()) {
                long r = e.getValue()[0], b = e.getValue()[1];
                if (r + b < minCount) continue;
                double lo = Math.log((r + ALPHA) / (redTotal[n] + ALPHA * v)) - Math.log((b + ALPHA) / (blueTotal[n] + ALPHA * v));
                all.add(new Term(e.getKey(), n, r, b, lo));
            }
        }
        Comparator<Term> byScore = Comparator.comparingDouble(Term::logOdds).thenComparing(Term::text);
        List<Term> red = all.stream().filter(t -> t.logOdds() > 0).sorted(byScore.reversed()).toList();
        List<Term> blue = all.stream().filter(t -> t.logOdds() < 0).sorted(byScore).toList();
        return new Summary(domain, samples.size(), redTotal[1], blueTotal[1], dedupe(red, top), dedupe(blue, top));
    }

    /** Keeps the first {@code top} terms, skipping an n-gram whose every word is already listed (less repetition). */
    private static List<Term> dedupe(List<Term> ranked, int top) {
        List<Term> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (Term t : ranked) {
            if (out.size() >= top) break;
            List<String> words = List.of(t.text().split(" "));
            if (t.n() > 1 && seen.containsAll(words)) continue;
            out.add(t);
            seen.add(t.text());
            if (t.n() == 1) seen.addAll(words);
        }
        return out;
    }
}
