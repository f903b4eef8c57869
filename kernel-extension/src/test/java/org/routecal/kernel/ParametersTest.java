package org.routecal.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** papermill's placement rules and Java declarations for injected parameters. */
class ParametersTest {
    static final ObjectMapper M = new ObjectMapper();

    static ObjectNode notebook(String... taggedSources) {
        ObjectNode nb = M.createObjectNode();
        nb.put("nbformat", 4);
        ArrayNode cells = nb.putArray("cells");
        for (String ts : taggedSources) {
            String[] p = ts.split("\\|", 2);
            ObjectNode c = cells.addObject();
            c.put("cell_type", "code");
            c.put("source", p[1]);
            ArrayNode tags = c.putObject("metadata").putArray("tags");
            if (!p[0].isEmpty()) tags.add(p[0]);
        }
        return nb;
    }

    static List<String> sources(ObjectNode nb) {
        return nb.get("cells").findValuesAsText("source");
    }

    @Test
    void injectedAfterParametersCellWithDeclaredTypes() {
        ObjectNode nb = notebook("|int a = 0;", "parameters|int layers = 4;\nString model = \"m\";\ndouble lr = 0.1;", "|a");
        Map<String, Object> p = new LinkedHashMap<>();
        Parameters.parseAssignment("layers=8", p);
        Parameters.parseAssignment("model=qwen \"3\"", p);
        Parameters.parseAssignment("lr=1", p);
        List<String> warnings = Parameters.inject(nb, p);
        assertEquals(List.of(), warnings);
        JsonNode injected = nb.get("cells").get(2);
        assertEquals("injected-parameters", injected.at("/metadata/tags/0").asText());
        assertEquals("// Parameters\nint layers = 8;\nString model = \"qwen \\\"3\\\"\";\ndouble lr = 1.0;",
                injected.get("source").asText());
        assertEquals(8, nb.at("/metadata/papermill/parameters/layers").asInt());
    }

    @Test
    void replacesAnEarlierInjectedCellAndWarnsAboutUndeclared() {
        ObjectNode nb = notebook("parameters|int n = 1;", "injected-parameters|int n = 2;", "|n");
        Map<String, Object> p = new LinkedHashMap<>();
        Parameters.parseAssignment("n=3", p);
        Parameters.parseAssignment("extra=true", p);
        List<String> warnings = Parameters.inject(nb, p);
        assertEquals(List.of("Passed unknown parameter: extra"), warnings);
        assertEquals(3, nb.get("cells").size());
        assertEquals("// Parameters\nint n = 3;\nvar extra = true;", nb.get("cells").get(1).get("source").asText());
    }

    @Test
    void atTheTopWhenNoCellIsTagged() {
        ObjectNode nb = notebook("|int n = 1;");
        Map<String, Object> p = new LinkedHashMap<>();
        Parameters.parseAssignment("name=x", p);
        List<String> warnings = Parameters.inject(nb, p);
        assertTrue(warnings.get(0).contains("does not contain a cell with tag 'parameters'"));
        assertEquals("// Parameters\nvar name = \"x\";", sources(nb).get(0));
    }

    @Test
    void yamlTypedValuesBecomeJavaLiterals() {
        assertEquals("List.of(1, 2, \"a\")", Parameters.literal(List.of(1, 2, "a")));
        assertEquals("5000000000L", Parameters.literal(5_000_000_000L));
        assertEquals("var s = \"é\\n\";", Parameters.declaration("s", null, "é\n"));
        assertEquals("Object z = null;", Parameters.declaration("z", null, null));
        assertThrows(org.routecal.RoutecalException.class, () -> Parameters.declaration("k", "int", "abc"));
    }
}
