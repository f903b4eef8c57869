package org.routecal.corpus;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CorpusOptionsMixinTest {
    @Command(name = "probe")
    static final class Probe {
        @Mixin CorpusOptionsMixin corpus;
    }

    private static CorpusOptions parse(String... args) {
        Probe p = new Probe();
        new CommandLine(p).parseArgs(args);
        return p.corpus.toOptions();
    }

    @Test
    void defaultsAndEveryFlag() {
        CorpusOptions d = parse("--corpus", "c.jsonl");
        assertEquals(CorpusOptions.of(Path.of("c.jsonl")), d);
        assertNull(d.enableThinking(), "template default unless the flag is given");

        CorpusOptions o = parse("--corpus", "c.parquet", "--chat-template", "off", "--enable-thinking",
            "--max-tokens-per-sample", "2048", "--max-samples", "128", "--samples-per-domain", "32",
            "--domains", "math,code", "--seed", "42", "--no-dedup", "--drop-unknown-roles");
        assertEquals(new CorpusOptions(Path.of("c.parquet"), false, true, 2048, 128, 32, List.of("math", "code"), 42, false, true), o);
        assertFalse(parse("--corpus", "c.jsonl", "--enable-thinking=false").enableThinking());
    }

    @Test
    void badValuesAreClearErrors() {
        RoutecalException e = assertThrows(RoutecalException.class, () -> parse("--corpus", "c.jsonl", "--chat-template", "maybe"));
        assertTrue(e.getMessage().contains("--chat-template must be on or off"), e.getMessage());
        assertThrows(RoutecalException.class, () -> parse("--corpus", "c.jsonl", "--max-samples", "-1"));
        assertThrows(CommandLine.MissingParameterException.class, () -> parse("--seed", "1"));
    }
}
