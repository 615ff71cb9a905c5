"""They write, we read: GeoParquet files written by GeoPandas and DuckDB.

Usage: python write_theirs.py OUT_DIR

Writes one small deterministic dataset in every option the installed clients
offer, each ``X.parquet`` with a sidecar ``X.expected.json`` (see common.py),
and prints one JSON document on stdout::

    {"versions": {...}, "duckdb": {"geometry": "...", "reason": ...},
     "files": [{"name", "client", "check", "status": "written" | "skipped" | "failed",
                "reason", "path", "sidecar"}]}

Nothing is downloaded: DuckDB extension auto-install is switched off.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
import warnings

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyproj
import shapely

from common import emit, geometry_types, versions, wkb_hex, wkt

warnings.filterwarnings("ignore")

# --- the dataset ----------------------------------------------------------------

MIXED = [
    "POINT (-73.9857 40.7484)",
    "MULTIPOINT ((0.1 0.2), (-1.5 2.25))",
    "LINESTRING (0 0, 1.5 1.5, 3 0)",
    "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3, 4 2))",
    "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))",
    "MULTIPOLYGON (((10 10, 11 10, 11 11, 10 10)), ((20 20, 21 20, 21 21, 20 20)))",
    "GEOMETRYCOLLECTION (POINT (5 5), LINESTRING (5 5, 6 6))",
    None,
    "POINT EMPTY",
    "POLYGON EMPTY",
]

SINGLE = {
    "point": ["POINT (1 2)", "POINT (-73.9857 40.7484)", None, "POINT EMPTY"],
    "linestring": ["LINESTRING (0 0, 1 1)", "LINESTRING (1.5 2.5, 3 4, 5 6)", None, "LINESTRING EMPTY"],
    "polygon": [
        "POLYGON ((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))",
        "POLYGON ((10 10, 11 10, 11 11, 10 10))",
        None,
        "POLYGON EMPTY",
    ],
    "multipoint": ["MULTIPOINT ((0 0), (1 1))", "MULTIPOINT ((2.5 3.5))", None, "MULTIPOINT EMPTY"],
    "multilinestring": [
        "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))",
        "MULTILINESTRING ((5 5, 6 7))",
        None,
        "MULTILINESTRING EMPTY",
    ],
    "multipolygon": [
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
        "MULTIPOLYGON (((10 10, 11 10, 11 11, 10 10), (10.2 10.1, 10.8 10.1, 10.8 10.7, 10.2 10.1)))",
        None,
        "MULTIPOLYGON EMPTY",
    ],
}

# 3D data (XYZ), allowed by GeoParquet 1.0 and later.
Z = [
    "POINT Z (1 2 3)",
    "LINESTRING Z (0 0 0, 1 1 1, 2 0 2)",
    "POLYGON Z ((0 0 0, 4 0 1, 4 4 2, 0 0 0))",
    None,
]

# Measured data (XYM, XYZM): only GeoParquet 2.0 can declare it.
M = [
    "POINT M (1 2 3)",
    "POINT ZM (1 2 3 4)",
    "LINESTRING M (0 0 0, 1 1 1)",
    "LINESTRING ZM (0 0 0 0, 1 1 1 1)",
    "POINT Z (5 6 7)",
    None,
]


def geoms(wkts):
    return [shapely.from_wkt(w) if w is not None else None for w in wkts]


def attributes(n: int) -> dict:
    """Attribute columns: int, nullable int, float, string, bool, all-null."""
    names = ["Zürich", "", "a\"quote", None, "plain", "東京", "x", "y", "z", "w"]
    return {
        "id": pd.array(list(range(n)), dtype="int64"),
        "count": pd.array([None if i == 2 else i * 10 for i in range(n)], dtype="Int64"),
        "value": pd.array([None if i == 3 else 0.1 * i - 1.5e10 * (i % 2) for i in range(n)], dtype="float64"),
        "name": pd.array([names[i % len(names)] for i in range(n)], dtype=object),
        "flag": pd.array([None if i == 5 else i % 2 == 0 for i in range(n)], dtype="boolean"),
        "nothing": pd.array([None] * n, dtype=object),
    }


COLUMN_TYPES = {
    "id": "int64",
    "count": "int64",
    "value": "float64",
    "name": "string",
    "flag": "bool",
    "nothing": "null",
}


def frame(wkts, crs) -> gpd.GeoDataFrame:
    g = geoms(wkts)
    return gpd.GeoDataFrame(attributes(len(g)), geometry=g, crs=crs)


def sidecar(wkts, *, writer, options, crs, version, encoding, covering) -> dict:
    g = geoms(wkts)
    attrs = attributes(len(g))
    columns = {}
    for name, arr in attrs.items():
        values = []
        for v in arr:
            if v is None or v is pd.NA or (isinstance(v, float) and v != v):
                values.append(None)
            elif hasattr(v, "item"):
                values.append(v.item())
            else:
                values.append(v)
        columns[name] = {"type": COLUMN_TYPES[name], "values": values}
    return {
        "writer": writer,
        "options": options,
        "rows": len(g),
        "primary_column": "geometry",
        "geometry_types": geometry_types(g),
        "crs": crs,
        "version": version,
        "encoding": encoding,
        "covering": covering,
        "wkt": [wkt(x) for x in g],
        "wkb_hex": [wkb_hex(x) for x in g],
        "columns": columns,
    }


def crs_slug(crs) -> str:
    return "nocrs" if crs is None else crs.replace("EPSG:", "epsg")


# --- GeoPandas -------------------------------------------------------------------


def geopandas_cases(pyarrow_major: int):
    """(frame name, wkts, schema_version, encoding, covering, crs, unsupported reason)."""
    crss = [None, "EPSG:4326", "EPSG:32618"]
    v2 = None if pyarrow_major >= 21 else f"GeoParquet 2.0.0 needs pyarrow>=21 (installed {pa.__version__})"
    for crs in crss:
        yield ("mixed", MIXED, None, "WKB", False, crs, None)  # the default (1.1.0)
        for version in ("0.4.0", "1.0.0"):
            yield ("mixed", MIXED, version, "WKB", False, crs, None)
        for covering in (False, True):
            yield ("mixed", MIXED, "1.1.0", "WKB", covering, crs, None)
            yield ("mixed", MIXED, "2.0.0", "WKB", covering, crs, v2)
        # GeoArrow encodings: single-type columns only, 1.1.0 only.
        for covering in (False, True):
            yield ("point", SINGLE["point"], "1.1.0", "geoarrow", covering, crs, None)
    for kind, wkts in SINGLE.items():
        if kind != "point":
            yield (kind, wkts, "1.1.0", "geoarrow", False, "EPSG:4326", None)
            yield (kind, wkts, "1.1.0", "geoarrow", True, "EPSG:32618", None)
    for version in ("1.0.0", "1.1.0"):
        yield ("z", Z, version, "WKB", False, "EPSG:4326", None)
    yield ("z", Z, "2.0.0", "WKB", False, "EPSG:4326", v2)
    yield ("m", M, "2.0.0", "WKB", False, "EPSG:4326", v2)


def write_geopandas(out_dir: str, files: list) -> None:
    client = f"geopandas {gpd.__version__}"
    pyarrow_major = int(pa.__version__.split(".")[0])
    for kind, wkts, version, encoding, covering, crs, unsupported in geopandas_cases(pyarrow_major):
        enc_slug = "wkb" if encoding == "WKB" else "geoarrow"
        name = "gp_{}_{}_{}_{}_{}".format(
            version or "default", enc_slug, "bbox" if covering else "nobbox", crs_slug(crs), kind
        )
        entry = {"name": name, "client": client}
        files.append(entry)
        if unsupported:
            entry.update(status="skipped", reason=f"not supported: {unsupported}")
            continue
        path = os.path.join(out_dir, name + ".parquet")
        options = {"schema_version": version, "geometry_encoding": encoding, "write_covering_bbox": covering}
        try:
            frame(wkts, crs).to_parquet(path, **options)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            entry.update(status="failed", reason=f"to_parquet({options}) raised {type(e).__name__}: {e}")
            continue
        # GeoArrow encodings are named after the single geometry type (SINGLE's keys).
        meta_encoding = "WKB" if encoding == "WKB" else kind
        side = sidecar(
            wkts,
            writer=client,
            options={**options, "crs": crs},
            crs=crs,
            version=version or "1.1.0",
            encoding=meta_encoding,
            covering=covering,
        )
        write_sidecar(entry, path, side)



def write_sidecar(entry: dict, path: str, side: dict) -> None:
    sidecar_path = path[: -len(".parquet")] + ".expected.json"
    with open(sidecar_path, "w", encoding="utf-8") as f:
        json.dump(side, f, indent=1, ensure_ascii=False)
    entry.update(status="written", path=path, sidecar=sidecar_path)


# --- DuckDB ----------------------------------------------------------------------


def duckdb_connect():
    """A connection with GEOMETRY support, or (None, reason). Never downloads."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    probe = "SELECT ST_AsText(ST_GeomFromWKB(from_hex('0101000000000000000000F03F0000000000000040')))"
    try:
        con.execute(probe).fetchall()
        return con, f"core GEOMETRY type (DuckDB {duckdb.__version__}), spatial extension not needed"
    except duckdb.Error:
        pass
    installed = con.execute(
        "SELECT installed FROM duckdb_extensions() WHERE extension_name = 'spatial'"
    ).fetchall()
    if not (installed and installed[0][0]):
        # INSTALL downloads from extensions.duckdb.org; offline it fails quickly.
        try:
            con.execute("INSTALL spatial")
        except duckdb.Error as e:
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            return None, f"spatial extension not available offline ({first})"
    try:
        con.execute("LOAD spatial")
        con.execute(probe).fetchall()
        return con, f"spatial extension (DuckDB {duckdb.__version__})"
    except duckdb.Error as e:
        return None, f"spatial extension not available offline ({str(e).splitlines()[0]})"


def duckdb_supports_geoparquet_version(con, out_dir: str):
    import duckdb

    probe = os.path.join(out_dir, "_probe.parquet")
    try:
        con.execute(
            f"COPY (SELECT ST_GeomFromWKB(from_hex('0101000000000000000000F03F0000000000000040')) AS geometry) "
            f"TO '{probe}' (FORMAT PARQUET, GEOPARQUET_VERSION 'V2')"
        )
        return None
    except duckdb.Error as e:
        return str(e).splitlines()[0]
    finally:
        if os.path.exists(probe):
            os.remove(probe)


DUCKDB_MODES = {
    # mode: (expected geo version, Parquet GEOMETRY logical type)
    "V1": ("1.0.0", False),
    "V2": ("2.0.0", True),
    "BOTH": ("1.0.0", True),
    "NONE": (None, True),
}


def describe_duck_crs(duck_crs, crs):
    if duck_crs is None:
        return None
    return f"PROJJSON of {crs}" if duck_crs.startswith("{") else duck_crs


def write_duckdb(out_dir: str, files: list) -> dict:
    import duckdb

    client = f"duckdb {duckdb.__version__}"
    con, how = duckdb_connect()
    info = {"geometry": how}
    crs_cases = [
        # (slug, expected crs, DuckDB CRS string or None)
        ("nocrs", "OGC:CRS84", None),  # DuckDB: a GEOMETRY without CRS is OGC:CRS84
        ("projjson-epsg4326", "EPSG:4326", pyproj.CRS("EPSG:4326").to_json()),
        ("projjson-epsg32618", "EPSG:32618", pyproj.CRS("EPSG:32618").to_json()),
        ("id-epsg32618", "EPSG:32618", "EPSG:32618"),
    ]
    frames = [("mixed", MIXED), ("z", Z), ("m", M)]
    cases = []
    for mode in DUCKDB_MODES:
        for slug, crs, duck_crs in crs_cases:
            cases.append(("mixed", MIXED, mode, slug, crs, duck_crs))
        for kind, wkts in frames[1:]:
            cases.append((kind, wkts, mode, "nocrs", "OGC:CRS84", None))
    if con is None:
        for kind, _, mode, slug, _, _ in cases:
            files.append({
                "name": f"duckdb_{mode}_{slug}_{kind}",
                "client": client,
                "status": "skipped",
                "reason": how,
            })
        return info
    no_version = duckdb_supports_geoparquet_version(con, out_dir)
    for kind, wkts, mode, slug, crs, duck_crs in cases:
        name = f"duckdb_{mode}_{slug}_{kind}"
        entry = {"name": name, "client": client}
        files.append(entry)
        if no_version:
            entry.update(status="skipped", reason=f"not supported: GEOPARQUET_VERSION ({no_version})")
            continue
        path = os.path.join(out_dir, name + ".parquet")
        g = geoms(wkts)
        attrs = attributes(len(g))
        table = pa.table(
            {
                **{k: pa.array(v, from_pandas=True) for k, v in attrs.items()},
                "wkb": pa.array([shapely.to_wkb(x, flavor="iso") if x is not None else None for x in g], pa.binary()),
            }
        )
        con.register("src", table)
        geom = "ST_GeomFromWKB(wkb)"
        if duck_crs is not None:
            geom = f"ST_SetCRS({geom}, $crs${duck_crs}$crs$)"
        cols = ", ".join(attrs)
        sql = (
            f"COPY (SELECT {cols}, {geom} AS geometry FROM src ORDER BY id) "
            f"TO '{path}' (FORMAT PARQUET, GEOPARQUET_VERSION '{mode}')"
        )
        try:
            con.execute(sql)
        except duckdb.Error as e:
            msg = str(e).splitlines()[0]
            if "only supports PROJJSON" in msg:
                entry.update(status="skipped", reason=f"not supported by DuckDB: {msg}")
            else:
                entry.update(status="failed", reason=f"COPY raised: {msg}")
            continue
        finally:
            con.unregister("src")
        version, _native = DUCKDB_MODES[mode]
        side = sidecar(
            wkts,
            writer=client,
            options={"GEOPARQUET_VERSION": mode, "crs": describe_duck_crs(duck_crs, crs)},
            crs=crs,
            version=version,
            encoding="WKB",
            covering=False,
        )
        write_sidecar(entry, path, side)
    return info


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: write_theirs.py OUT_DIR", file=sys.stderr)
        return 2
    out_dir = argv[1]
    os.makedirs(out_dir, exist_ok=True)
    files: list = []
    doc = {"versions": versions(), "files": files}
    write_geopandas(out_dir, files)
    try:
        doc["duckdb"] = write_duckdb(out_dir, files)
    except ImportError as e:
        doc["duckdb"] = {"geometry": None, "reason": f"duckdb not importable: {e}"}
    except Exception:  # noqa: BLE001 - a harness bug, reported as data
        doc["duckdb"] = {"geometry": None, "error": traceback.format_exc()}
    emit(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
