package org.routecal.demo;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class TokenClassTest {
    private static TokenClass of(String s) {
        return TokenClass.of(s.getBytes(StandardCharsets.UTF_8), false);
    }

    @Test
    void classesFollowTheCharacters() {
        assertEquals(TokenClass.LATIN, of(" the"));
        assertEquals(TokenClass.LATIN, of("Großmutter"));
        assertEquals(TokenClass.CODE, of(" return"));
        assertEquals(TokenClass.CODE, of("):"));
        assertEquals(TokenClass.MATH, of("7"));
        assertEquals(TokenClass.MATH, of(" ="));
        assertEquals(TokenClass.MATH, of("π"));      // a Greek letter, but used as a math symbol
        assertEquals(TokenClass.GREEK, of(" ήλιος"));
        assertEquals(TokenClass.CYRILLIC, of("Поезд"));
        assertEquals(TokenClass.CYRILLIC, of("ї"));
        assertEquals(TokenClass.CJK, of("天气"));
        assertEquals(TokenClass.CJK, of("。"));
        assertEquals(TokenClass.CJK, of("날씨"));
        assertEquals(TokenClass.OTHER, of("\n"));
        assertEquals(TokenClass.OTHER, of("."));
        assertEquals(TokenClass.OTHER, TokenClass.of("the".getBytes(StandardCharsets.UTF_8), true));
    }

    @Test
    void partialCharactersAreClassedByTheirLeadByte() {
        byte[] eta = "ή".getBytes(StandardCharsets.UTF_8);
        byte[] pe = "П".getBytes(StandardCharsets.UTF_8);
        byte[] tian = "天".getBytes(StandardCharsets.UTF_8);
        assertEquals(TokenClass.GREEK, TokenClass.of(new byte[] {eta[0]}, false));
        assertEquals(TokenClass.CYRILLIC, TokenClass.of(new byte[] {pe[0]}, false));
        assertEquals(TokenClass.CJK, TokenClass.of(new byte[] {tian[0], tian[1]}, false));
        assertEquals(TokenClass.OTHER, TokenClass.of(new byte[] {tian[2]}, false)); // a lone continuation byte
    }
}
