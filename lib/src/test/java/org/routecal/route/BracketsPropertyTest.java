package org.routecal.route;

import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Brackets on random texts and tokenizations, including byte-level tokens whose spans overlap and surrogate pairs. */
class BracketsPropertyTest {
    private static final String[] PIECES = {"a", "b", " ", "\n", "<", ">", "/", "re", "d", "blu", "e", "é", "🙂", "<think>\n", "</", "x"};

    @Test
    void stripGivesBackTheTextAndTagsNeverNestOrCross() {
        Random rnd = new Random(7);
        for (int iter = 0; iter < 2000; iter++) {
            StringBuilder sb = new StringBuilder();
            int tokens = rnd.nextInt(25);
            int[] start = new int[tokens], end = new int[tokens];
            for (int t = 0; t < tokens; t++) {
                String p = PIECES[rnd.nextInt(PIECES.length)];
                if (t > 0 && rnd.nextInt(6) == 0) {
                    // a byte-level token continuing the previous character: same span as the previous token
                    start[t] = start[t - 1];
                    end[t] = end[t - 1];
                    continue;
                }
                start[t] = sb.length();
                sb.append(p);
                end[t] = sb.length();
            }
            String text = sb.toString();
            if (text.contains("<red>") || text.contains("</red>") || text.contains("<blue>") || text.contains("</blue>")) continue;
            byte[] labels = new byte[tokens];
            for (int t = 0; t < tokens; t++) labels[t] = (byte) rnd.nextInt(3);
            String marker = rnd.nextBoolean() ? null : "<think>\n";
            Brackets.Tagged tg = Brackets.apply(text, start, end, labels, marker);
            assertEquals(text, Brackets.strip(tg.text()), "iteration " + iter);
            assertWellFormed(tg.text());
            assertTrue(tg.blueTokens() + tg.redTokens() <= tokens);
        }
    }

    @Test
    void overlappingSpansOfDifferentLabelsAreClipped() {
        // "é" split over two byte-level tokens with the same span [1,2): blue then red
        String text = "aéb";
        Brackets.Tagged tg = Brackets.apply(text, new int[]{0, 1, 1, 2}, new int[]{1, 2, 2, 3},
                new byte[]{Brackets.NONE, Brackets.BLUE, Brackets.RED, Brackets.RED}, null);
        assertEquals("a<blue>é</blue><red>b</red>", tg.text());
        assertEquals(1, tg.blueTokens());
        assertEquals(2, tg.redTokens());
    }

    @Test
    void missingMarkerTagsNothing() {
        Brackets.Tagged tg = Brackets.apply("ab", new int[]{0, 1}, new int[]{1, 2}, new byte[]{Brackets.RED, Brackets.RED}, "<think>\n");
        assertEquals("ab", tg.text());
        assertEquals(0, tg.redTokens());
    }

    private static void assertWellFormed(String tagged) {
        Deque<String> open = new ArrayDeque<>();
        for (int i = 0; i < tagged.length(); i++) {
            for (String tag : new String[]{"blue", "red"}) {
                if (tagged.startsWith("<" + tag + ">", i)) {
                    assertTrue(open.isEmpty(), "nested tag at " + i + " in " + tagged);
                    open.push(tag);
                } else if (tagged.startsWith("</" + tag + ">", i)) {
                    assertEquals(tag, open.poll(), "crossed tag at " + i + " in " + tagged);
                }
            }
        }
        assertTrue(open.isEmpty(), "unclosed tag in " + tagged);
    }
}
