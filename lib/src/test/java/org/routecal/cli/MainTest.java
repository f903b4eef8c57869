package org.routecal.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.*;

class MainTest {
    @Test
    void helpExitsZeroAndUnknownCommandFails() {
        assertEquals(0, Main.run("--help"));
        assertNotEquals(0, Main.run("no-such-command"));
    }

    /** A bare {@code routecal} shows what it can do: every registered command, as {@code --help} does. */
    @Test
    void bareInvocationListsTheCommands() {
        String bare = stdout(), help = stdout("--help");
        for (String command : Commands.all().keySet()) assertTrue(bare.contains("\n  " + command + " "), command + " in:\n" + bare);
        assertEquals(help, bare);
    }

    private static String stdout(String... args) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run(args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
