package org.routecal.synth.cli;

import org.routecal.session.StageCommand;
import org.routecal.pipeline.OutputDir;
import org.routecal.pipeline.Progress;
import org.routecal.synth.SynthManifests;
import org.routecal.synth.extract.ExtractParams;
import org.routecal.synth.extract.ExtractStage;
import org.routecal.synth.llm.LlmParams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code routecal extract}: guidelines per (mode × domain) from bracketed samples. */
@Command(name = "extract", mixinStandardHelpOptions = true,
        description = "Stage 2: red/blue statistics + stratified examples → one guideline per (mode, domain) in OUT/guidelines/. "
                + "Without --llm-base-url the statistical summary is the guideline.")
public final class ExtractCommand implements StageCommand {
    @Option(names = "--bracketed", required = true, split = ",", description = "bracketed_{mode}.jsonl file(s) from the route stage")
    List<Path> bracketed;
    @Option(names = "--out", required = true, description = "run directory") Path out;
    @Option(names = "--overwrite", description = "replace an earlier extract output in --out") boolean overwrite;
    @Option(names = "--domains", split = ",", description = "only these domains") Set<String> domains = Set.of();
    @Option(names = "--examples", defaultValue = "12", description = "tagged examples per prompt, stratified by red share (default ${DEFAULT-VALUE})") int examples;
    @Option(names = "--max-example-chars", defaultValue = "1500", description = "each example cut to this many characters (default ${DEFAULT-VALUE})") int maxExampleChars;
    @Option(names = "--ngram", defaultValue = "3", description = "longest n-gram in the statistics (default ${DEFAULT-VALUE})") int ngram;
    @Option(names = "--min-count", defaultValue = "3", description = "minimum red+blue occurrences of a listed term (default ${DEFAULT-VALUE})") int minCount;
    @Option(names = "--top-terms", defaultValue = "25", description = "terms listed per direction (default ${DEFAULT-VALUE})") int topTerms;
    @Option(names = "--seed", defaultValue = "42") long seed;
    @Option(names = "--prompt-dir", description = "directory with template overrides (extract_{mode}.md, domains.properties)") Path promptDir;
    @Option(names = "--temperature", defaultValue = "0.6") double temperature;
    @Option(names = "--max-tokens", defaultValue = "4096", description = "answer token limit of the extraction call") int maxTokens;
    @Mixin LlmOptionsMixin llm;

    @Override public Object execute(Progress progress) {
        return ExtractStage.runInto(new ExtractParams(bracketed, out, domains, examples, maxExampleChars, ngram, minCount, topTerms, seed,
                promptDir, llm.options(), new LlmParams(temperature, null, maxTokens, null, Map.of())), overwrite, progress);
    }
}
