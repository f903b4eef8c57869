package org.routecal.synth;

import org.routecal.route.RoutingCounts;
import org.routecal.tokenize.ByteCodec;
import org.routecal.tokenize.TextCodec;

import java.util.Locale;

/**
 * A deterministic stand-in for the target model in tests of the synth stages' bookkeeping (persistence, resume,
 * acceptance): every word is "routed" to top-2 experts per layer by a hash. It is a real, total function of the text,
 * so re-routing a logged text on resume gives the same counts, which is the property the stages rely on. Text is
 * rendered and counted by the byte codec.
 */
public final class HashingTargetModel implements TargetModel {
    public final int layers, experts;
    private final TextCodec codec = new ByteCodec();

    public HashingTargetModel(int layers, int experts) {
        this.layers = layers;
        this.experts = experts;
    }

    @Override public TextCodec codec() { return codec; }

    private static String[] words(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        return s.isEmpty() ? new String[0] : s.split("\\s+");
    }

    @Override public RoutingCounts route(String text) {
        String[] w = words(text);
        long[][] c = new long[layers][experts];
        for (String word : w) {
            for (int l = 0; l < layers; l++) {
                int h = Math.floorMod((word + "#" + l).hashCode(), experts);
                c[l][h]++;
                c[l][(h + 1 + Math.floorMod(word.hashCode(), experts - 1)) % experts]++;
            }
        }
        return RoutingCounts.of(c, w.length);
    }
}
