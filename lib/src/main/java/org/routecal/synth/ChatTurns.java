package org.routecal.synth;

import org.routecal.tokenize.ChatMessage;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses the generator's {@code ### System: / ### User: / ### Assistant:} answer into turns, so the text can be
 * rendered in the target model's own chat template (the reference kept the markdown headers as the text itself).
 */
public final class ChatTurns {
    private static final Pattern HEADER = Pattern.compile("(?m)^\\s*#{2,4}\\s*(System|User|Assistant)\\s*:?\\s*$|^\\s*#{2,4}\\s*(System|User|Assistant)\\s*:\\s*",
            Pattern.CASE_INSENSITIVE | Pattern.MULTILINE);

    private ChatTurns() {}

    /** The turns in order; empty if the text has no recognisable user and assistant turn. */
    public static List<ChatMessage> parse(String text) {
        Matcher m = HEADER.matcher(text);
        List<int[]> marks = new ArrayList<>();
        List<String> roles = new ArrayList<>();
        while (m.find()) {
            roles.add((m.group(1) != null ? m.group(1) : m.group(2)).toLowerCase(Locale.ROOT));
            marks.add(new int[]{m.start(), m.end()});
        }
        List<ChatMessage> turns = new ArrayList<>();
        for (int i = 0; i < marks.size(); i++) {
            int end = i + 1 < marks.size() ? marks.get(i + 1)[0] : text.length();
            String content = text.substring(marks.get(i)[1], end).strip();
            if (!content.isEmpty()) turns.add(new ChatMessage(roles.get(i), content));
        }
        boolean user = turns.stream().anyMatch(t -> t.role().equals("user"));
        boolean assistant = turns.stream().anyMatch(t -> t.role().equals("assistant"));
        return user && assistant ? turns : List.of();
    }

    /** Share of the three expected sections (system, user, assistant) present: the row's {@code quality_score}. */
    public static double sectionScore(List<ChatMessage> turns) {
        return turns.stream().map(ChatMessage::role).distinct().count() / 3.0;
    }
}
