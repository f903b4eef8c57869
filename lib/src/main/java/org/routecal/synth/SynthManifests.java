package org.routecal.synth;

import org.routecal.pipeline.Manifest;
import org.routecal.pipeline.OutputDir;
import org.routecal.synth.accept.AcceptanceParams;
import org.routecal.synth.llm.LlmOptions;
import org.routecal.synth.llm.LlmParams;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Parameter maps of the synth stages for {@code manifest.json} (the API key itself is never among them). */
public final class SynthManifests {
    private SynthManifests() {}

    public static Map<String, Object> llm(LlmOptions o, LlmParams p) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (o == null) {
            m.put("endpoint", "none");
            return m;
        }
        m.put("base_url", o.normalizedBaseUrl());
        m.put("model", o.model());
        m.put("api_key_env", o.apiKeyEnv()); // the variable's name only (the manifest redacts it anyway)
        m.put("timeout_s", o.timeout().toSeconds());
        m.put("max_retries", o.maxRetries());
        m.put("max_concurrency", o.maxConcurrency());
        m.put("max_requests", o.maxRequests());
        m.put("max_total_tokens", o.maxTokens());
        if (p != null) {
            m.put("temperature", p.temperature());
            m.put("top_p", p.topP());
            m.put("max_tokens", p.maxTokens());
            m.put("seed", p.seed());
            m.put("extra_body", p.extraBody());
        }
        return m;
    }

    public static Map<String, Object> acceptance(AcceptanceParams a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("target", a.target());
        m.put("min_gain_per_token", a.minGainPerToken());
        m.put("max_candidate_js", a.maxCandidateJs());
        m.put("max_corpus_drift_js", a.maxCorpusDriftJs());
        m.put("max_added_token_ratio", a.maxAddedTokenRatio());
        return m;
    }

    /**
     * Finishes a synth command's run: adds every existing file or directory of the output named in {@code outputs},
     * writes {@code manifest.json} (the run is complete from here on) and releases the output.
     */
    public static void finish(OutputDir dir, Manifest.Builder b, String... outputs) {
        for (String o : outputs) {
            Path p = dir.path().resolve(o);
            if (Files.exists(p)) b.output(o, p, dir.path());
        }
        dir.writeManifest(b.build());
        dir.commit();
    }
}
