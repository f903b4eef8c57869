package org.routecal.synth.extract;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Picks the tagged examples a prompt shows. The reference took the first 30 records of a domain in file order; we sort
 * the domain's samples by their red share, cut the order into {@code n} equal strata and draw one sample per stratum
 * with a seeded RNG, so the examples span low-red to high-red text and change with the seed, not with file order.
 */
public final class ExampleChooser {
    private ExampleChooser() {}

    public static List<BracketedSample> stratified(List<BracketedSample> samples, int n, long seed) {
        List<BracketedSample> pool = new ArrayList<>(samples.stream().filter(s -> s.nTokensRed() > 0).toList());
        if (pool.size() < n) pool = new ArrayList<>(samples); // too few with red: show what there is
        pool.sort(Comparator.comparingDouble(BracketedSample::redShare).thenComparing(BracketedSample::sampleId));
        if (pool.size() <= n) return pool;
        Random rnd = new Random(seed);
        List<BracketedSample> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int from = (int) ((long) i * pool.size() / n), to = (int) ((long) (i + 1) * pool.size() / n);
            out.add(pool.get(from + rnd.nextInt(to - from)));
        }
        return out;
    }

    /**
     * Cuts tagged text to about {@code maxChars} without splitting a tag and closes a tag left open, so the prompt
     * never shows a dangling {@code <red>}.
     */
    public static String truncateTagged(String text, int maxChars) {
        if (text.length() <= maxChars) return text;
        String cut = text.substring(0, maxChars);
        int lt = cut.lastIndexOf('<'), gt = cut.lastIndexOf('>');
        if (lt > gt) cut = cut.substring(0, lt);
        int openRed = cut.lastIndexOf("<red>"), closeRed = cut.lastIndexOf("</red>");
        int openBlue = cut.lastIndexOf("<blue>"), closeBlue = cut.lastIndexOf("</blue>");
        StringBuilder sb = new StringBuilder(cut);
        if (openRed > closeRed) sb.append("</red>");
        else if (openBlue > closeBlue) sb.append("</blue>");
        return sb.append(" […]").toString();
    }
}
