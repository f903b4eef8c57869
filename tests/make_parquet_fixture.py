#!/usr/bin/env python3
"""A Parquet file written by pyarrow for ParquetInteropTest, plus the values it holds as JSON.

Run:  /opt/hfref/bin/python tests/make_parquet_fixture.py      (pyarrow from the local pip mirror)
Writes tests/fixtures/parquet/pyarrow.parquet (ZSTD, pyarrow's default nullable columns and 3-level lists with
optional elements, a struct and a timestamp column our reader must skip) and pyarrow.json (the same rows).
"""
import datetime
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "parquet")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)
    n = 64
    ids = [rng.integers(0, 128, 8).astype(np.int16).tolist() for _ in range(n)]
    weights = [rng.random(8).astype(np.float32).tolist() for _ in range(n)]
    table = pa.table({
        "sample_id": pa.array([f"s{i // 4}" if i % 9 else None for i in range(n)], pa.string()),
        "position": pa.array(list(range(n)), pa.int32()),
        "offset": pa.array([i * (1 << 33) for i in range(n)], pa.int64()),
        "score": pa.array(rng.random(n).astype(np.float32), pa.float32()),
        "loss": pa.array(rng.random(n), pa.float64()),
        "flag": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
        "topk_ids": pa.array(ids, pa.list_(pa.int16())),
        "topk_weights": pa.array(weights, pa.list_(pa.float32())),
        "token_ids": pa.array([list(range(i % 4)) if i % 5 else None for i in range(n)], pa.list_(pa.int32())),
        "meta": pa.array([{"a": i} for i in range(n)], pa.struct([("a", pa.int64())])),
        "when": pa.array([datetime.datetime(2026, 1, 1)] * n, pa.timestamp("ms")),
    })
    table = table.replace_schema_metadata({"format": "pyarrow.fixture", "format_version": "1"})
    pq.write_table(table, os.path.join(OUT, "pyarrow.parquet"), compression="zstd")
    rows = table.drop_columns(["meta", "when"]).to_pylist()
    for r in rows:  # float32 values as the exact float32 bit patterns
        r["score"] = int(np.float32(r["score"]).view(np.int32))
        r["topk_weights"] = [int(v) for v in np.asarray(r["topk_weights"], np.float32).view(np.int32)]
    with open(os.path.join(OUT, "pyarrow.json"), "w") as f:
        json.dump({"pyarrow": pa.__version__, "rows": rows}, f)
    print("wrote", OUT, "pyarrow", pa.__version__)


if __name__ == "__main__":
    main()
