package org.routecal.synth.select;

import com.fasterxml.jackson.databind.JsonNode;
import org.routecal.RoutecalException;
import org.routecal.synth.AppendLog;
import org.routecal.synth.TargetModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Texts to choose from (or the original corpus to measure): a JSONL file whose rows have {@code text} or chat
 * {@code messages} (rendered with the target's chat template), optional {@code domain} and {@code sample_id}/{@code id};
 * a Parquet file with a string column {@code text} (or {@code seed_augmentation}, the reference's synthetic column)
 * and optional {@code domain}, {@code sample_id}; or a directory of {@code .txt} files (one text each; the domain is
 * the sub-directory name, if any).
 */
public final class CandidatePool {
    private CandidatePool() {}

    /** One text; {@code id} is unique within its source. */
    public record Candidate(String id, String domain, String text) {}

    public static List<Candidate> read(Path source, TargetModel target) {
        if (Files.isDirectory(source)) return readDir(source);
        String name = source.getFileName().toString();
        if (name.endsWith(".jsonl") || name.endsWith(".json")) return readJsonl(source, target);
        if (name.endsWith(".parquet")) return readParquet(source);
        if (!Files.exists(source)) throw new RoutecalException("candidate pool not found: " + source);
        throw new RoutecalException("candidate pool " + source + ": expected a .jsonl or .parquet file, or a directory of .txt files");
    }

    private static List<Candidate> readJsonl(Path file, TargetModel target) {
        List<Candidate> out = new ArrayList<>();
        int row = 0;
        for (JsonNode n : AppendLog.read(file)) {
            row++;
            String text;
            if (n.path("text").isTextual()) text = n.get("text").asText();
            else if (n.path("messages").isArray()) {
                List<TargetModel.Turn> turns = new ArrayList<>();
                int i = 0;
                for (JsonNode m : n.get("messages")) {
                    if (!m.path("role").isTextual() || !m.path("content").isTextual()) {
                        throw new RoutecalException(file + " row " + row + ": messages[" + i + "] needs string 'role' and 'content'");
                    }
                    // the thinking text: reasoning_content (Qwen3's key) or the reference's renamed "reasoning"
                    JsonNode reasoning = m.has("reasoning_content") ? m.get("reasoning_content") : m.get("reasoning");
                    turns.add(new TargetModel.Turn(m.get("role").asText(), m.get("content").asText(),
                            reasoning != null && reasoning.isTextual() && !reasoning.asText().isEmpty() ? reasoning.asText() : null));
                    i++;
                }
                text = target.render(turns);
            } else throw new RoutecalException(file + " row " + row + ": needs a string 'text' or a 'messages' list");
            String id = n.path("sample_id").isTextual() ? n.get("sample_id").asText() : n.path("id").asText(String.valueOf(row));
            out.add(new Candidate(id, n.path("domain").asText("default"), text));
        }
        return out;
    }

    private static List<Candidate> readParquet(Path file) {
        org.routecal.io.parquet.ParquetTableReader r = org.routecal.io.parquet.ParquetTableReader.open(file);
        String textCol = r.schema().has("text") ? "text" : r.schema().has("seed_augmentation") ? "seed_augmentation" : null;
        if (textCol == null) throw new RoutecalException(file + ": no string column 'text' or 'seed_augmentation'");
        List<Candidate> out = new ArrayList<>();
        for (org.routecal.io.parquet.Row row : r.readAll()) {
            String text = row.getString(textCol);
            if (text == null) text = "";
            String id = r.schema().has("sample_id") ? row.getString("sample_id") : r.schema().has("key") ? row.getString("key") : String.valueOf(row.number());
            String domain = r.schema().has("domain") && row.getString("domain") != null ? row.getString("domain") : "default";
            out.add(new Candidate(id, domain, text));
        }
        return out;
    }

    private static List<Candidate> readDir(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            List<Candidate> out = new ArrayList<>();
            for (Path p : s.filter(p -> Files.isRegularFile(p) && p.toString().endsWith(".txt")).sorted().toList()) {
                Path rel = dir.relativize(p);
                String domain = rel.getNameCount() > 1 ? rel.getName(0).toString() : "default";
                out.add(new Candidate(rel.toString(), domain, Files.readString(p)));
            }
            if (out.isEmpty()) throw new RoutecalException("candidate directory " + dir + " has no .txt files");
            return out;
        } catch (IOException e) {
            throw new RoutecalException("cannot read candidate directory " + dir + ": " + e.getMessage(), e);
        }
    }
}
