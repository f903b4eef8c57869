#!/usr/bin/python3
"""Writes the example notebooks (notebooks/*.ipynb) and the kernel test notebook (tests/notebooks/kernel-features.ipynb).

The notebooks are generated so they stay tidy and easy to extend: edit the cell lists below and re-run
    /usr/bin/python3 notebooks/make_notebooks.py
Each cell is (kind, source[, metadata]); kind is "md", "code", or "params" (a code cell tagged `parameters`, where
`routecal run-notebook -p key=value` injects values). metadata.routecal_test holds what
tests/notebooks/run_notebooks.py asserts about a cell's outputs (has_table, has_figure, result_contains, …).
"""
import os

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TABLE = {"routecal_test": {"has_table": True}}
FIGURE = {"routecal_test": {"has_figure": True}}

# A top-k router over softmax scores: the routing rule of Qwen-MoE-style blocks, simulated here on random logits with a
# per-expert bias so that load is uneven, as in real checkpoints. Shared by the example notebooks.
ROUTER = """// Simulated router: logits [tokens, experts] = N(0,1) + bias[e]; top-k experts per token.
double[] bias = new double[experts];
Random rng = new Random(seed);
for (int e = 0; e < experts; e++) bias[e] = skew * rng.nextGaussian();
int[][] route(int tokens, double[] bias, Random rng) {
    int[][] chosen = new int[tokens][];
    for (int t = 0; t < tokens; t++) {
        double[] logit = new double[bias.length];
        for (int e = 0; e < bias.length; e++) logit[e] = rng.nextGaussian() + bias[e];
        Integer[] order = new Integer[bias.length];
        for (int e = 0; e < order.length; e++) order[e] = e;
        Arrays.sort(order, (x, y) -> Double.compare(logit[y], logit[x]));
        chosen[t] = new int[topK];
        for (int k = 0; k < topK; k++) chosen[t][k] = order[k];
    }
    return chosen;
}"""

QUICKSTART = [
    ("md", "# routecal quickstart\n\n"
           "Java cells run in JShell on the **routecal** kernel; Tablesaw tables and Plotly charts render inline "
           "(plotly.js is embedded once, so the notebook also renders offline).\n\n"
           "This notebook simulates a Mixture-of-Experts router on random logits, counts how many tokens each expert "
           "receives, and shows the load table and chart. Run it headless with parameters:\n\n"
           "```\n./routecal run-notebook notebooks/quickstart.ipynb out.ipynb -p experts=16 -p topK=4 --to html\n```"),
    ("params", "int experts = 8;\nint topK = 2;\nint tokens = 2000;\ndouble skew = 0.6;\nlong seed = 42;"),
    ("code", ROUTER),
    ("code", "int[][] chosen = route(tokens, bias, rng);\nint[] load = new int[experts];\n"
             "for (int[] c : chosen) for (int e : c) load[e]++;\n"
             "System.out.println(\"routed \" + tokens + \" tokens to \" + topK + \" of \" + experts + \" experts\");",
     {"routecal_test": {"stdout_contains": "routed"}}),
    ("md", "## Expert load\nTokens routed to each expert, and its share of all routing slots."),
    ("code", "Table loadTable = Table.create(\"expert load\",\n"
             "    IntColumn.create(\"expert\", java.util.stream.IntStream.range(0, experts).toArray()),\n"
             "    IntColumn.create(\"tokens\", load));\n"
             "loadTable.addColumns(loadTable.intColumn(\"tokens\").divide((double) tokens * topK).setName(\"share\"));\n"
             "loadTable", TABLE),
    ("code", "VerticalBarPlot.create(\"Tokens per expert\", loadTable, \"expert\", \"tokens\")", FIGURE),
    ("md", "## Balance\nThe coefficient of variation of the load (0 = perfectly balanced) and the busiest expert's "
           "load relative to the mean."),
    ("code", "double mean = (double) tokens * topK / experts;\n"
             "double var = Arrays.stream(load).mapToDouble(x -> (x - mean) * (x - mean)).sum() / experts;\n"
             "String.format(\"cv = %.3f, max/mean = %.2f\", Math.sqrt(var) / mean, Arrays.stream(load).max().getAsInt() / mean)",
     {"routecal_test": {"result_contains": "cv = "}}),
]

ROUTING = [
    ("md", "# Routing analysis\n\nHow routing differs between domains: each domain shifts the router's bias, and the "
           "heatmap shows which experts each domain's tokens reach."),
    ("params", "int experts = 8;\nint topK = 2;\nint tokensPerDomain = 500;\ndouble skew = 0.5;\nlong seed = 7;\n"
               "List<String> domains = List.of(\"code\", \"math\", \"chat\");"),
    ("code", ROUTER),
    ("code", "StringColumn domainCol = StringColumn.create(\"domain\");\nStringColumn expertCol = StringColumn.create(\"expert\");\n"
             "for (String d : domains) {\n"
             "    double[] shifted = bias.clone();\n"
             "    Random drng = new Random(seed + d.hashCode());\n"
             "    for (int e = 0; e < experts; e++) shifted[e] += drng.nextGaussian();\n"
             "    for (int[] c : route(tokensPerDomain, shifted, drng))\n"
             "        for (int e : c) { domainCol.append(d); expertCol.append(String.format(\"e%02d\", e)); }\n"
             "}\n"
             "Table assignments = Table.create(\"assignments\", domainCol, expertCol);\n"
             "Table counts = assignments.xTabCounts(\"domain\", \"expert\");\ncounts", TABLE),
    ("code", "Heatmap.create(\"Routing slots per domain and expert\", assignments, \"expert\", \"domain\")", FIGURE),
    ("md", "## Per-domain concentration\nThe share of a domain's routing slots taken by its top two experts."),
    ("code", "Table top2 = Table.create(\"top-2 share\", StringColumn.create(\"domain\"), DoubleColumn.create(\"top2_share\"));\n"
             "for (String d : domains) {\n"
             "    Table sub = assignments.where(assignments.stringColumn(\"domain\").isEqualTo(d));\n"
             "    Table byExpert = sub.countBy(\"expert\").sortDescendingOn(\"Count\");\n"
             "    double share = (byExpert.intColumn(\"Count\").getInt(0) + byExpert.intColumn(\"Count\").getInt(1)) / (double) sub.rowCount();\n"
             "    top2.stringColumn(\"domain\").append(d);\n    top2.doubleColumn(\"top2_share\").append(share);\n"
             "}\ntop2", TABLE),
    ("code", "VerticalBarPlot.create(\"Top-2 expert share by domain\", top2, \"domain\", \"top2_share\")", FIGURE),
]

QUANT = [
    ("md", "# Quantization comparison\n\nRound-to-nearest (RTN) symmetric quantization of a weight matrix at 4 and 8 "
           "bits, per group of input columns, on Gaussian weights with a few outliers (as in real `down_proj` "
           "weights). Smaller groups cost more scales but track outliers better."),
    ("params", "int rows = 256;\nint cols = 512;\nlong seed = 3;\ndouble outlierRate = 0.002;"),
    ("code", "// Weights [rows, cols] row-major: N(0, 0.02) with rare 10x outliers.\n"
             "float[] w = new float[rows * cols];\nRandom rng = new Random(seed);\n"
             "for (int i = 0; i < w.length; i++) {\n"
             "    double v = 0.02 * rng.nextGaussian();\n"
             "    w[i] = (float) (rng.nextDouble() < outlierRate ? 10 * v : v);\n}\n"
             "// RTN: per row and group, scale = max|w| / qmax, q = clamp(round(w / scale)); returns the mean squared error.\n"
             "double rtnMse(float[] w, int rows, int cols, int bits, int group) {\n"
             "    int qmax = (1 << (bits - 1)) - 1;\n    double se = 0;\n"
             "    for (int r = 0; r < rows; r++)\n"
             "        for (int g = 0; g < cols; g += group) {\n"
             "            double amax = 0;\n"
             "            for (int c = g; c < g + group; c++) amax = Math.max(amax, Math.abs(w[r * cols + c]));\n"
             "            double scale = amax == 0 ? 1 : amax / qmax;\n"
             "            for (int c = g; c < g + group; c++) {\n"
             "                double q = Math.max(-qmax - 1, Math.min(qmax, Math.rint(w[r * cols + c] / scale)));\n"
             "                double d = q * scale - w[r * cols + c];\n                se += d * d;\n            }\n        }\n"
             "    return se / ((double) rows * cols);\n}"),
    ("code", "Table results = Table.create(\"RTN error\", StringColumn.create(\"scheme\"), IntColumn.create(\"bits\"),\n"
             "    IntColumn.create(\"group\"), DoubleColumn.create(\"mse\"));\n"
             "for (int bits : new int[] {4, 8})\n"
             "    for (int group : new int[] {32, 128, cols}) {\n"
             "        results.stringColumn(\"scheme\").append(\"int\" + bits + \"/g\" + group);\n"
             "        results.intColumn(\"bits\").append(bits);\n        results.intColumn(\"group\").append(group);\n"
             "        results.doubleColumn(\"mse\").append(rtnMse(w, rows, cols, bits, group));\n    }\n"
             "results", TABLE),
    ("code", "VerticalBarPlot.create(\"RTN mean squared error by scheme\", results, \"scheme\", \"mse\")", FIGURE),
    ("code", "double ratio = results.doubleColumn(\"mse\").get(0) / results.doubleColumn(\"mse\").get(3);\n"
             "String.format(\"int4/g32 error is %.0fx int8/g32 error\", ratio)",
     {"routecal_test": {"result_contains": "x int8/g32"}}),
]

FEATURES = [
    ("md", "# Kernel features (test notebook)\nRun by tests/notebooks/run_notebooks.py; the `demo-table` magic "
           "comes from the test class path."),
    ("params", "int a = 20;\nString who = \"nobody\";"),
    ("code", "int b = 22;\na + b", {"routecal_test": {"result_contains": "42"}}),
    ("code", "System.out.println(\"hello \" + who);\nSystem.err.println(\"to stderr\");",
     {"routecal_test": {"stdout_contains": "hello "}}),
    ("code", "%demo-table --rows 4 --title Squares --as sq", {"routecal_test": {"has_table": True, "has_figure": True}}),
    ("code", "sq.table().rowCount()", {"routecal_test": {"result_contains": "4"}}),
    ("code", "%nosuch --x", {"tags": ["raises-exception"], "routecal_test": {"error_name": "UsageError"}}),
    ("code", "%demo-table --rowz 2", {"tags": ["raises-exception"], "routecal_test": {"error_name": "UsageError"}}),
    ("code", "int zero = 0;\nint boom = 1 / zero;", {"tags": ["raises-exception"], "routecal_test": {"error_name": "RuntimeError"}}),
    ("code", "long spins = 0;\nwhile (true) { spins++; }",
     {"tags": ["raises-exception"], "routecal_test": {"timeout": 8, "error_name": "Interrupted"}}),
    ("code", "\"still alive\"", {"routecal_test": {"result_contains": "still alive"}}),
    ("code", "%%config\ndemo-table:\n  title: FromConfig", {"routecal_test": {"result_contains": "title: FromConfig"}}),
    ("code", "%demo-table --rows 2 --as c\nc.table().name()", {"routecal_test": {"result_contains": "FromConfig"}}),
]


def build(cells, path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "routecal", "display_name": "routecal (Java 17)", "language": "java"}
    nb.metadata["language_info"] = {"name": "java", "file_extension": ".jshell", "mimetype": "text/x-java-source",
                                    "codemirror_mode": "java"}
    for i, spec in enumerate(cells):
        kind, source = spec[0], spec[1]
        meta = dict(spec[2]) if len(spec) > 2 else {}
        if kind == "md":
            cell = nbformat.v4.new_markdown_cell(source)
        else:
            cell = nbformat.v4.new_code_cell(source)
            if kind == "params":
                meta["tags"] = ["parameters"] + meta.get("tags", [])
        cell.metadata.update(meta)
        cell["id"] = f"{os.path.basename(path).split('.')[0][:12]}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    nbformat.write(nb, path)
    print("wrote", os.path.relpath(path, ROOT))


if __name__ == "__main__":
    build(QUICKSTART, os.path.join(HERE, "quickstart.ipynb"))
    build(ROUTING, os.path.join(HERE, "routing-analysis.ipynb"))
    build(QUANT, os.path.join(HERE, "quantization-comparison.ipynb"))
    build(FEATURES, os.path.join(ROOT, "tests", "notebooks", "kernel-features.ipynb"))
