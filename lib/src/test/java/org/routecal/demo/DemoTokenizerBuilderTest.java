package org.routecal.demo;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class DemoTokenizerBuilderTest {
    @Test
    void byteLevelAlphabetRoundTripsEveryByte() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) all[i] = (byte) i;
        String s = ByteLevel.encode(all);
        assertEquals(256, s.chars().distinct().count());
        assertEquals('Ġ', ByteLevel.charOf(' '));   // GPT-2's well-known mapping of the space byte
        assertEquals('Ċ', ByteLevel.charOf('\n'));
        assertArrayEquals(all, ByteLevel.decode(s));
    }

    @Test
    void mergesMostFrequentPairFirstAndStopsAtCountOne() {
        // Pre-tokens: "ab", " ab", " ab", " cd". Pair counts: (a,b)=3, (Ġ,a)=2, (Ġ,c)=1, (c,d)=1.
        // Merge 1: a+b (3). Then (Ġ,ab)=2 → merge 2. Every other pair occurs once → stop.
        DemoTokenizerBuilder.Vocabulary v = DemoTokenizerBuilder.train(List.of("ab ab ab cd"), 1000);
        assertEquals(List.of("a b", "Ġ ab"), v.merges());
        assertEquals(256 + 2 + DemoTokenizerBuilder.SPECIALS.size(), v.size());
        assertEquals(258, v.firstSpecialId());
        assertEquals("Ġab", v.tokens().get(257));
        assertArrayEquals(" ab".getBytes(StandardCharsets.UTF_8), v.bytes(257));
        assertEquals(v.firstSpecialId() + 2, v.id("<|im_end|>"));
    }

    @Test
    void stopsAtTheRequestedVocabularySize() {
        DemoTokenizerBuilder.Vocabulary v = DemoTokenizerBuilder.train(List.of("ab ab ab cd"), 256 + 1 + 5);
        assertEquals(List.of("a b"), v.merges());
    }
}
