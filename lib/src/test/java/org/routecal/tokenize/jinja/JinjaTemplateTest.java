package org.routecal.tokenize.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.routecal.tokenize.TokenizerFixtures;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every case in jinja_cases.json was rendered by transformers' own jinja2 environment: we must print the same string,
 * or fail with a {@link JinjaException} where jinja2 raised.
 */
class JinjaTemplateTest {
    @Test
    void rendersLikeTransformersJinjaEnvironment() {
        JsonNode cases = TokenizerFixtures.json("jinja_cases.json").get("cases");
        List<String> failures = new ArrayList<>();
        int errors = 0;
        for (JsonNode c : cases) {
            String template = c.get("template").asText();
            @SuppressWarnings("unchecked")
            Map<String, Object> ctx = new ObjectMapper().convertValue(c.get("context"), Map.class);
            if (c.has("error")) {
                errors++;
                try {
                    String got = JinjaTemplate.parse(template).render(ctx);
                    failures.add("expected error " + c.get("error").asText() + " for " + template + " but got " + got);
                } catch (JinjaException expected) {
                    // the message is ours; what matters is that rendering stops
                }
                continue;
            }
            try {
                String got = JinjaTemplate.parse(template).render(ctx);
                if (!got.equals(c.get("output").asText())) {
                    failures.add(template + "\n  want " + repr(c.get("output").asText()) + "\n  got  " + repr(got));
                }
            } catch (RuntimeException e) {
                failures.add(template + "\n  threw " + e);
            }
        }
        assertTrue(errors >= 5, "fixture lost its error cases");
        assertEquals(List.of(), failures, String.join("\n", failures));
    }

    @Test
    void raiseExceptionCarriesTheTemplateMessage() {
        JinjaException e = assertThrows(JinjaException.class,
            () -> JinjaTemplate.parse("{{ raise_exception('Conversation roles must alternate') }}").render(Map.of()));
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    private static String repr(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t") + "\"";
    }
}
