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

SETUP = """// The embedded demo model (generated on first use, cached) and its corpus and candidate pool.
Path model = org.routecal.demo.DemoAssets.ensure();
String corpus = model.resolveSibling("corpus.jsonl").toString();
String pool = model.resolveSibling("pool.jsonl").toString();
// A fresh run directory for this execution; small slices of the pool keep the notebook quick.
Path runDir = Path.of(out).toAbsolutePath();
if (Files.exists(runDir)) try (var paths = Files.walk(runDir)) {
    paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
}
Files.createDirectories(runDir);
List<String> poolLines = Files.readAllLines(Path.of(pool));
Files.write(runDir.resolve("pool-slice.jsonl"), poolLines.subList(0, Math.min(poolSlice, poolLines.size())));
Files.write(runDir.resolve("eval.jsonl"), poolLines.subList(poolLines.size() - evalSamples, poolLines.size()));
String poolSliceFile = runDir.resolve("pool-slice.jsonl").toString();
String evalFile = runDir.resolve("eval.jsonl").toString();
model"""

QUICKSTART = [
    ("md", "# routecal quickstart\n\n"
           "The whole loop on the embedded demo model (Qwen3-MoE format, 16 experts top-2 per layer, routing planted so "
           "that token classes — math, code, Latin prose, Greek, Cyrillic, CJK — reach distinct expert groups): "
           "**route → bracket → refine (select from a local pool) → quantize → evaluate**, with tables and charts "
           "inline. Magics take exactly the CLI's options; `${name}` inserts a notebook variable, `--as x` binds the "
           "result. Run it headless with parameters:\n\n"
           "```\n./routecal run-notebook notebooks/quickstart.ipynb out.ipynb -p samples=300 --to html\n```"),
    ("params", "int samples = 150;\nint poolSlice = 400;\nint evalSamples = 40;\nlong seed = 0;\nString out = \"runs/quickstart\";"),
    ("code", SETUP, {"routecal_test": {"result_contains": "model"}}),
    ("code", "%inspect --model ${model}", {"routecal_test": {"result_contains": "Qwen3-MoE"}}),
    ("md", "## Stage 1: which experts does the corpus starve?"),
    ("code", "%route --model ${model} --corpus ${corpus} --max-samples ${samples} --seed ${seed} --out ${out}/route --as r", FIGURE),
    ("code", "r.expertStats()", TABLE),
    ("code", "%bracket --run ${out}/route --mode balance", {"routecal_test": {"result_contains": "red"}}),
    ("md", "## The loop: add pool texts that reach starved experts (each candidate routed through the model first)"),
    ("code", "%refine --model ${model} --corpus ${corpus} --pool ${poolSliceFile} --out ${out}/refine --target 256 --max-rounds 2",
     {"routecal_test": {"result_contains": "refine"}}),
    ("md", "## Stage 0: GPTQ W4 on the compound corpus (hybrid MoE mode), then evaluate against the original"),
    ("code", "%quantize --model ${model} --corpus ${out}/refine/compound.jsonl --max-samples ${samples} --group-size 32 --out ${out}/quantized",
     {"routecal_test": {"result_contains": "quantized"}}),
    ("code", "%evaluate --model ${model} --quantized ${out}/quantized --corpus ${evalFile} --out ${out}/eval --as e",
     {"routecal_test": {"result_contains": "ppl"}}),
]

ROUTING = [
    ("md", "# Routing analysis\n\nHow the embedded demo model routes each domain of its corpus: expert statistics, "
           "per-layer balance metrics and the stage-1 charts (heatmap, rank curve, per-domain bars)."),
    ("params", "int samples = 200;\nint poolSlice = 10;\nint evalSamples = 5;\nlong seed = 1;\nString out = \"runs/routing-analysis\";"),
    ("code", SETUP),
    ("code", "%route --model ${model} --corpus ${corpus} --max-samples ${samples} --seed ${seed} --ranking per-layer --out ${out}/route --as r", FIGURE),
    ("code", "r.metricsTable()", TABLE),
    ("code", "r.figures().values().iterator().next()", FIGURE),
    ("code", "r.tokenScores()", TABLE),
]

QUANT = [
    ("md", "# Quantization comparison\n\nRTN against GPTQ, and the MoE calibration modes, on the embedded demo model: "
           "KL(original‖quantized) and perplexity on held-out pool text."),
    ("params", "int samples = 120;\nint poolSlice = 10;\nint evalSamples = 30;\nlong seed = 0;\nString out = \"runs/quant-comparison\";"),
    ("code", SETUP),
    ("code", "for (String[] v : new String[][] {{\"rtn\", \"hybrid\"}, {\"gptq\", \"routed\"}, {\"gptq\", \"hybrid\"}})\n"
             "    org.routecal.cli.Stages.run(\"quantize\", \"--model\", model.toString(), \"--corpus\", corpus, \"--max-samples\", \"\" + samples,\n"
             "        \"--group-size\", \"32\", \"--algorithm\", v[0], \"--moe-mode\", v[1], \"--out\", out + \"/\" + v[0] + \"-\" + v[1]);\n"
             "\"quantized 3 checkpoints\"", {"routecal_test": {"result_contains": "quantized 3"}}),
    ("code", "%evaluate --model ${model} --quantized ${out}/rtn-hybrid ${out}/gptq-routed ${out}/gptq-hybrid --corpus ${evalFile} --out ${out}/eval --as e",
     {"routecal_test": {"result_contains": "gptq-hybrid"}}),
    ("code", "Table methods = Table.create(\"methods\", StringColumn.create(\"model\"), DoubleColumn.create(\"ppl\"), DoubleColumn.create(\"kl\"));\n"
             "for (var m : e.models()) {\n"
             "    methods.stringColumn(\"model\").append(m.name());\n"
             "    methods.doubleColumn(\"ppl\").append(m.ppl());\n"
             "    methods.doubleColumn(\"kl\").append(m.kl() == null ? 0.0 : m.kl());\n}\nmethods", TABLE),
    ("code", "Chart.bars(\"KL(original‖quantized) by method\", methods, \"model\", \"kl\")", FIGURE),
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
    ("code", "int zero = 0;\nint boom = 1 / zero;", {"tags": ["raises-exception"], "routecal_test": {"error_name": "ArithmeticException"}}),
    ("code", "%demo-tabel --rows 2", {"tags": ["raises-exception"], "routecal_test": {"error_name": "UsageError"}}),
    ("code", "%lsmagic", {"routecal_test": {"result_contains": "%classpath"}}),
    ("code", "long spins = 0;\nwhile (true) { spins++; }",
     {"tags": ["raises-exception"], "routecal_test": {"timeout": 8, "error_name": "Interrupted"}}),
    ("code", "\"still alive\"", {"routecal_test": {"result_contains": "still alive"}}),
    ("code", "%%config\ndemo-table:\n  title: FromConfig", {"routecal_test": {"result_contains": "title: FromConfig"}}),
    ("code", "%demo-table --rows 2 --as c\nc.table().name()", {"routecal_test": {"result_contains": "FromConfig"}}),
]


# Stock IJava 1.3 and JJava 1.0 with routecal loaded as kernel-extension/README.md says (tests/kernels/build.sh builds
# the kernels; NotebookClientTest runs these). @ROUTECAL_JARS@ is replaced by run_notebooks.py with the jars' paths.
INTEROP_COMMON = [
    ("code", "String title = \"Squares\";\nint rows = 4;"),
    # The progress bar is updated in place (update_display_data, which nbclient applies): it must end at 4/4.
    ("code", "%demo-table --rows ${rows} --title ${title} --as sq;", {"routecal_test": {"has_table": True, "output_contains": "squares 4/4"}}),
    ("code", "sq.table().rowCount()", {"routecal_test": {"result_contains": "4"}}),
    ("code", "sq.figure()", FIGURE),
    ("code", "Path p = Path.of(\"runs\", \"x\");\np.getFileName().toString()", {"routecal_test": {"result_contains": "x"}}),
    ("code", "%%config\ndemo-table:\n  rows: 2", {"routecal_test": {"output_contains": "rows: 2"}}),
    ("code", "%demo-table --as two", {}),
    ("code", "two.table().rowCount()", {"routecal_test": {"result_contains": "2"}}),
]
IJAVA = [
    ("md", "# routecal in stock IJava 1.3 (test notebook)"),
    ("code", "%jars @ROUTECAL_JARS@"),
    ("code", "org.routecal.kernel.IJavaSupport.register(io.github.spencerpark.ijava.IJava.getKernelInstance())",
     {"routecal_test": {"result_contains": "magics"}}),
] + INTEROP_COMMON + [
    ("code", "org.routecal.kernel.testing.DemoResult r = %demo-table --rows 3\nr.table().rowCount()",
     {"routecal_test": {"result_contains": "3"}}),
]
JJAVA = [
    ("md", "# routecal in JJava 1.0 (test notebook)"),
    ("code", "%classpath @ROUTECAL_JARS@"),
] + INTEROP_COMMON


# Charts in a live notebook server (tests/browser/notebook-server.mjs): Run All, reload, clear, untrusted.
SERVER_CHARTS = [
    ("md", "# Charts in a notebook server (browser test notebook)"),
    ("code", "%demo-table --rows 3 --title A"),
    ("code", "Chart.bars(\"B\", Table.create(\"t\", IntColumn.create(\"n\", new int[]{1, 2, 3})), \"n\", \"n\")"),
    ("code", "int boom = 1 / 0;"),
    ("code", "\"Run All stops before this cell\""),
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
    build(IJAVA, os.path.join(ROOT, "tests", "notebooks", "ijava-interop.ipynb"))
    build(SERVER_CHARTS, os.path.join(ROOT, "tests", "notebooks", "server-charts.ipynb"))
    build(JJAVA, os.path.join(ROOT, "tests", "notebooks", "jjava-interop.ipynb"))
