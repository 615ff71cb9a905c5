"""Reads RaQuet files written by `geoquet raquet from-geotiff` with pyarrow, gzip,
numpy, quadbin-py and DuckDB, and checks them against the spec and against the
synthetic sources' formulas (cargo xtask interop, interop_raquet.rs).

Integer sources without nodata and without alpha (the RGB and int16x2 ones) get an added
alpha band (fill mask, docs/src/raquet.md "Fill"): it is found in the metadata (the last
band with `colorinterp: alpha`, described "fill mask added by geoquet …"), the source
bands are compared without it, and it must be 255 on every source pixel compared.

Usage: raquet_read_ours.py DIR   (DIR holds the files named below)
Prints one JSON document: {"versions": {...}, "checks": [{"name", "client", "ok", "note"}]}.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import json
import sys
import zlib
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import quadbin

BS = 256


def version(dist: str) -> str:
    return importlib.metadata.version(dist)


def unblob(b: bytes) -> bytes:
    if b[:2] == b"\x1f\x8b":
        return gzip.decompress(b)
    if b[:1] == b"\x78":
        return zlib.decompress(b)
    return b


def table(path: Path):
    f = pq.ParquetFile(path)
    t = f.read()
    rows = t.to_pylist()
    meta_rows = [r for r in rows if r["block"] == 0]
    return f, t, rows, json.loads(meta_rows[0]["metadata"])


def check_layout(path: Path) -> str:
    f, t, rows, meta = table(path)
    schema = t.schema
    assert str(schema.field("block").type) == "uint64", schema.field("block").type
    assert str(schema.field("metadata").type) == "string"
    kv = f.metadata.metadata or {}
    assert kv.get(b"raquet:version") == b"0.5.0", kv.get(b"raquet:version")
    assert meta["file_format"] == "raquet" and meta["version"] == "0.5.0"
    for k in ["width", "height", "crs", "bounds", "bounds_crs", "tiling", "compression", "bands"]:
        assert k in meta, k
    for k in ["scheme", "block_width", "block_height", "min_zoom", "max_zoom", "pixel_zoom", "num_blocks"]:
        assert k in meta["tiling"], k
    idx = [i for i, r in enumerate(rows) if r["block"] == 0]
    assert idx == [len(rows) - 1], idx
    last = f.metadata.row_group(f.num_row_groups - 1)
    assert last.num_rows == 1, "metadata row not alone in the last row group"
    blocks = [r["block"] for r in rows[:-1]]
    assert blocks == sorted(blocks), "rows not sorted by block"
    assert all(r["metadata"] is None for r in rows[:-1])
    rg = f.metadata.row_group(0)
    sc = rg.sorting_columns
    assert sc and sc[0].column_index == 0 and not sc[0].descending, sc
    zooms = {}
    for b in blocks:
        z = quadbin.get_resolution(b)
        zooms[z] = zooms.get(z, 0) + 1
    t_ = meta["tiling"]
    assert sorted(zooms) == list(range(t_["min_zoom"], t_["max_zoom"] + 1)), zooms
    assert zooms[t_["max_zoom"]] == t_["num_blocks"]
    assert t_["pixel_zoom"] == t_["max_zoom"] + 8
    return f"{len(rows)} rows, {f.num_row_groups} row groups, zooms {dict(sorted(zooms.items()))}"


ADDED_ALPHA = "fill mask added by geoquet"


def added_alpha(meta):
    """(index, band) of the alpha band the converter added, or None: the last band whose
    `colorinterp` is `alpha` in a file of more than one band (`Metadata::alpha_band`),
    when its description says geoquet added it. It must be the last band, `band_N+1`."""
    bands = meta["bands"]
    if len(bands) < 2:
        return None
    idx = [i for i, b in enumerate(bands) if b.get("colorinterp") == "alpha"]
    if not idx or not (bands[idx[-1]].get("description") or "").startswith(ADDED_ALPHA):
        return None
    i = idx[-1]
    assert i == len(bands) - 1 and bands[i]["name"] == f"band_{i + 1}", f"added alpha {bands[i]['name']} is not the last band"
    return i, bands[i]


def opaque(alpha_band) -> int:
    """The added alpha's value on source pixels: 255, 127 for int8."""
    return 127 if alpha_band["type"] == "int8" else 255


def band(path: Path, z: int, x: int, y: int, name: str = "band_1", dtype="<u2"):
    _, _, rows, meta = table(path)
    cell = quadbin.tile_to_cell((x, y, z))
    row = next(r for r in rows if r["block"] == cell)
    raw = unblob(row[name])
    assert len(raw) == BS * BS * np.dtype(dtype).itemsize, len(raw)
    return np.frombuffer(raw, dtype=dtype).reshape(BS, BS), meta


def check_uint16_pixels(path: Path) -> str:
    # synthetic_uint16_3857.tif: 600x400 from the NW corner of 8/130/86, value =
    # ((row*7 + col*3) % 60000) + 1, nodata 0 in rows 256-399 x cols 512-599 and
    # rows 10-29 x cols 10-39, pixel (0, 0) = 65535.
    r, c = np.mgrid[0:400, 0:600]
    src = ((r * 7 + c * 3) % 60000 + 1).astype(np.uint16)
    src[256:400, 512:600] = 0
    src[10:30, 10:40] = 0
    src[0, 0] = 65535
    _, _, _, meta = table(path)
    # nodata 0 marks the fill: no alpha band is added.
    assert [b["name"] for b in meta["bands"]] == ["band_1"] and added_alpha(meta) is None, meta["bands"]
    n = 0
    for tx in (130, 131, 132):
        for ty in (86, 87):
            full = np.zeros((BS, BS), dtype=np.uint16)
            r0, c0 = (ty - 86) * BS, (tx - 130) * BS
            part = src[r0 : r0 + BS, c0 : c0 + BS]
            full[: part.shape[0], : part.shape[1]] = part
            _, _, rows, _ = table(path)
            cell = quadbin.tile_to_cell((tx, ty, 8))
            present = any(rw["block"] == cell for rw in rows)
            if not present:
                assert not full.any(), f"8/{tx}/{ty} holds data but is missing"
                continue
            got, _ = band(path, 8, tx, ty)
            assert np.array_equal(got, full), f"8/{tx}/{ty} differs"
            n += 1
    return f"{n} native tiles equal the source pixel for pixel (gzip, little-endian uint16)"


def check_stats(path: Path) -> str:
    f, t, rows, meta = table(path)
    mz = meta["tiling"]["max_zoom"]
    b = meta["bands"][0]
    nodata = b["nodata"]
    dtype = np.dtype(b["type"]).newbyteorder("<")
    vals = []
    n_tiles = 0
    for rw in rows[:-1]:
        if quadbin.get_resolution(rw["block"]) != mz:
            continue
        a = np.frombuffer(unblob(rw["band_1"]), dtype=dtype).astype(np.float64)
        n_tiles += 1
        # Per-tile statistics columns against the pixels.
        valid = a[a != nodata] if nodata is not None else a
        if "band_1_count" in rw:
            if valid.size == 0:
                assert rw["band_1_count"] is None
            else:
                assert rw["band_1_count"] == valid.size
                assert rw["band_1_min"] == valid.min() and rw["band_1_max"] == valid.max()
                assert abs(rw["band_1_sum"] - valid.sum()) <= 1e-9 * abs(valid.sum())
                assert abs(rw["band_1_mean"] - valid.mean()) <= 1e-9 * max(1, abs(valid.mean()))
                assert abs(rw["band_1_stddev"] - valid.std()) <= 1e-9 * max(1, valid.std())
        vals.append(valid)
    allv = np.concatenate(vals)
    assert b["STATISTICS_MINIMUM"] == allv.min() and b["STATISTICS_MAXIMUM"] == allv.max()
    assert abs(b["STATISTICS_MEAN"] - allv.mean()) <= 1e-9 * abs(allv.mean())
    assert abs(b["STATISTICS_STDDEV"] - allv.std()) <= 1e-9 * allv.std(), (b["STATISTICS_STDDEV"], allv.std())
    width, height = meta["width"], meta["height"]
    pct = 100.0 * allv.size / (width * height)
    assert abs(b["STATISTICS_VALID_PERCENT"] - pct) < 1e-9, (b["STATISTICS_VALID_PERCENT"], pct)
    per_tile = "band_1_count" in t.column_names
    return f"min/max/mean/pooled stddev/valid % over {allv.size} pixels of {n_tiles} tiles" + (
        "; per-tile count/min/max/sum/mean/stddev columns too" if per_tile else ""
    )


def check_interleaved(path: Path) -> str:
    # synthetic_int16x2_3857.tif: band1 = r*256+c-30000, band2 = -(r*256+c) (int16), no
    # nodata: an alpha band is added, interleaved as a third int16 sample.
    _, _, rows, meta = table(path)
    assert meta["band_layout"] == "interleaved"
    alpha = added_alpha(meta)
    assert alpha is not None, "no added alpha band in the metadata (int16 source without nodata)"
    ai, ab = alpha
    nb = len(meta["bands"])
    src = [i for i in range(nb) if i != ai]
    assert len(src) == 2, meta["bands"]
    rw = rows[0]
    raw = unblob(rw["pixels"])
    a = np.frombuffer(raw, dtype="<i2").reshape(BS, BS, nb)
    r, c = np.mgrid[0:BS, 0:BS]
    v = (r * 256 + c).astype(np.int64)
    b1 = (v - 30000).astype(np.int16)
    b2 = (-v).astype(np.int16)
    assert np.array_equal(a[:, :, src[0]], b1) and np.array_equal(a[:, :, src[1]], b2)
    assert (a[:, :, ai] == opaque(ab)).all(), f"added alpha not {opaque(ab)} on every source pixel: {np.unique(a[:, :, ai])}"
    return f"2 x int16 sample-interleaved (BIP, whole values) equal the source; added alpha ({ab['name']}, 3rd sample) {opaque(ab)} on all {BS * BS} source pixels"


def check_rgb(path: Path) -> str:
    # synthetic_rgb_3857.tif: uint8 RGB, no nodata, no alpha: an alpha band is added.
    _, _, rows, meta = table(path)
    alpha = added_alpha(meta)
    assert alpha is not None, "no added alpha band in the metadata (uint8 RGB without nodata or alpha)"
    ai, ab = alpha
    src = [b for i, b in enumerate(meta["bands"]) if i != ai]
    assert [b["colorinterp"] for b in src] == ["red", "green", "blue"], [b["colorinterp"] for b in meta["bands"]]
    rw = next(r for r in rows if r["block"] == quadbin.tile_to_cell((520, 350, 10)))
    r, c = np.mgrid[0:BS, 0:BS]
    want = [r, c, (r + c) % 256]
    for k, b in enumerate(src):
        a = np.frombuffer(unblob(rw[b["name"]]), dtype=np.uint8).reshape(BS, BS)
        assert np.array_equal(a, want[k]), b["name"]
    a = np.frombuffer(unblob(rw[ab["name"]]), dtype=np.uint8).reshape(BS, BS)
    assert (a == opaque(ab)).all(), f"added alpha not {opaque(ab)} on every source pixel: {np.unique(a)}"
    return f"3 x uint8 tile 10/520/350 equals R=row, G=col, B=(row+col)%256; added alpha {ab['name']} {opaque(ab)} on all {BS * BS} pixels"


def check_cells(paths) -> str:
    n = 0
    for p in paths:
        _, _, rows, _ = table(p)
        for rw in rows[:-1]:
            b = rw["block"]
            assert quadbin.is_valid_cell(b), b
            x, y, z = quadbin.cell_to_tile(b)
            assert quadbin.tile_to_cell((x, y, z)) == b
            n += 1
    return f"{n} blocks are valid Quadbin cells"


def check_duckdb(path: Path) -> str:
    con = duckdb.connect()
    q = f"SELECT block, metadata FROM read_parquet('{path}') WHERE block = 0"
    rows = con.execute(q).fetchall()
    assert len(rows) == 1
    m = json.loads(rows[0][1])
    typ = con.execute(f"SELECT typeof(block) FROM read_parquet('{path}') LIMIT 1").fetchone()[0]
    assert typ == "UBIGINT", typ
    n = con.execute(
        f"SELECT count(*) FROM read_parquet('{path}') WHERE block <> 0 AND metadata IS NULL"
    ).fetchone()[0]
    v = con.execute(
        f"SELECT json_extract_string(metadata, '$.tiling.max_zoom') FROM read_parquet('{path}') WHERE block = 0"
    ).fetchone()[0]
    assert int(v) == m["tiling"]["max_zoom"]
    return f"block UBIGINT, {n} data rows, metadata JSON readable in SQL"


def main() -> None:
    d = Path(sys.argv[1])
    a = d / "A_uint16.parquet"
    ats = d / "A_uint16_tilestats.parquet"
    bi = d / "B_rgb.parquet"
    di = d / "D_int16x2_interleaved.parquet"
    checks = []

    def run(name, client, fn, *args):
        try:
            note = fn(*args)
            checks.append({"name": name, "client": client, "ok": True, "note": note})
        except Exception as e:  # noqa: BLE001 (each failure is a row)
            checks.append({"name": name, "client": client, "ok": False, "note": f"{type(e).__name__}: {e}"})

    pa = f"pyarrow {version('pyarrow')}"
    run("raquet layout (schema, raquet:version, sorted, metadata row last, zooms)", pa, check_layout, a)
    run("raquet layout with --tile-stats --keep-empty", pa, check_layout, ats)
    run("raquet native tiles = source pixels (uint16, gzip)", f"{pa} + numpy {version('numpy')}", check_uint16_pixels, a)
    run("raquet RGB bands = source pixels", f"{pa} + numpy", check_rgb, bi)
    run("raquet interleaved int16 = whole-sample BIP", f"{pa} + numpy", check_interleaved, di)
    run("raquet band statistics exact (pooled)", f"{pa} + numpy", check_stats, a)
    run("raquet per-tile statistics columns", f"{pa} + numpy", check_stats, ats)
    run("raquet blocks = quadbin-py cells", f"quadbin-py {version('quadbin')}", check_cells, [a, ats, bi, di])
    run("raquet metadata row via SQL", f"duckdb {version('duckdb')}", check_duckdb, a)
    print(json.dumps({"versions": {k: version(k) for k in ["pyarrow", "numpy", "quadbin", "duckdb"]}, "checks": checks}))


if __name__ == "__main__":
    main()
