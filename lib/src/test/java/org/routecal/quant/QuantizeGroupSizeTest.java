package org.routecal.quant;

import org.junit.jupiter.api.Test;
import org.routecal.RoutecalException;
import org.routecal.pipeline.Progress;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** quantize's group size: the default fits the model; a size that does not fit is refused with the one that would. */
class QuantizeGroupSizeTest {
    /** The tiny Qwen3-MoE fixture: input columns 32 (expert down_proj), 64 (hidden), 96 (dense down_proj). */
    static final Path TINY = Path.of("../tests/fixtures/models/qwen3_moe/v1");

    @Test void defaultFitsASmallModelAndSaysSo() {
        List<String> said = new ArrayList<>();
        Progress p = new Progress() {
            @Override public void start(String task, long total) {}
            @Override public void advance(long n) {}
            @Override public void message(String text) { said.add(text); }
            @Override public void finish() {}
        };
        assertEquals(32, QuantizeCommand.groupSizeFor(TINY, null, p));
        assertEquals(1, said.size());
        assertTrue(said.get(0).contains("group size 32") && said.get(0).contains("--group-size"), said.toString());
    }

    @Test void explicitSizeThatDoesNotDivideIsRefusedWithTheFix() {
        RoutecalException e = assertThrows(RoutecalException.class, () -> QuantizeCommand.groupSizeFor(TINY, 128, Progress.NONE));
        assertTrue(e.getMessage().contains("--group-size 32"), e.getMessage());
        assertEquals(32, QuantizeCommand.groupSizeFor(TINY, 32, Progress.NONE));
        assertEquals(0, QuantizeCommand.groupSizeFor(TINY, 0, Progress.NONE));
    }

    /** Column counts of real checkpoints (config.json of each): all keep 128, GPT-OSS's 2880 gets 64. */
    @Test void realGeometries() {
        assertEquals(128, QuantizeCommand.fittingGroupSize(List.of(2048L, 768L, 4096L)));   // Qwen3-30B-A3B: hidden, moe_intermediate, q heads × head_dim
        assertEquals(128, QuantizeCommand.fittingGroupSize(List.of(2048L, 1408L, 5632L)));  // Qwen1.5-MoE-A2.7B incl. shared expert
        assertEquals(128, QuantizeCommand.fittingGroupSize(List.of(4096L, 14336L)));        // Mixtral-8x7B
        assertEquals(64, QuantizeCommand.fittingGroupSize(List.of(2880L, 4096L)));          // gpt-oss-20b: hidden 2880
        assertEquals(0, QuantizeCommand.fittingGroupSize(List.of(100L)));
    }
}
