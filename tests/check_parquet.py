#!/usr/bin/env python3
"""Reads the Parquet file our ParquetTableWriter wrote (ParquetInteropTest) with pyarrow and checks every value.

  mvn -o -q -pl lib test -Dtest=ParquetInteropTest
  /opt/hfref/bin/python tests/check_parquet.py lib/target/parquet-check/routing.parquet
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main(path):
    f = pq.ParquetFile(path)
    meta = {k.decode(): v.decode() for k, v in f.metadata.metadata.items()}
    assert meta["format"] == "routecal.check" and meta["format_version"] == "1" and meta["k"] == "v", meta
    assert f.metadata.row_group(0).column(0).compression == "ZSTD"
    t = f.read()
    s = t.schema
    assert s.field("topk_ids").type == pa.list_(pa.field("element", pa.int16(), nullable=False)), s.field("topk_ids").type
    assert s.field("topk_weights").type.value_type == pa.float32()
    assert s.field("offset").type == pa.int64() and s.field("flag").type == pa.bool_()
    rows = t.to_pylist()
    assert len(rows) == 1000
    for i, r in enumerate(rows):
        assert r["sample_id"] == f"s{i}" and r["position"] == i and r["offset"] == 3 * i, r
        assert r["score"] == np.float32(i * 0.5) and r["flag"] == (i % 2 == 0)
        assert r["note"] == (None if i % 3 == 0 else f"n{i}")
        assert r["topk_ids"] == [(i * 7 + k) % 128 for k in range(8)]
        assert r["topk_weights"] == [float(np.float32((i + k) * 0.125)) for k in range(8)]
    print("OK", path, len(rows), "rows")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "lib/target/parquet-check/routing.parquet")
