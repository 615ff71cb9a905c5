"""We write, they read: read Parquet files with GeoPandas, pyarrow and DuckDB.

Usage: python read_ours.py FILE.parquet [FILE.parquet ...]

Each FILE.parquet needs its sidecar FILE.expected.json (format in common.py).
Every file is read by each client and compared with the sidecar: row count,
attribute values, geometries (exact: same type, dimensions and coordinates,
tolerance 0) and CRS. Prints one JSON document on stdout::

    {"versions": {...},
     "results": [{"path": ..., "reader": "geopandas 1.2.0",
                  "result": "ok" | "FAILED: reason" | "skipped: reason"}]}
"""

from __future__ import annotations

import json
import math
import sys
import traceback
import warnings

import shapely

from common import emit, geoms_equal, plain, values_equal, versions

warnings.filterwarnings("ignore")

WKB_CODES = {
    "Point": 1,
    "LineString": 2,
    "Polygon": 3,
    "MultiPoint": 4,
    "MultiLineString": 5,
    "MultiPolygon": 6,
    "GeometryCollection": 7,
}
SUFFIX_CODES = {"": 0, " Z": 1000, " M": 2000, " ZM": 3000}


def type_code(name: str) -> int:
    for suffix in (" ZM", " Z", " M"):
        if name.endswith(suffix):
            return WKB_CODES[name[: -len(suffix)]] + SUFFIX_CODES[suffix]
    return WKB_CODES[name]


class Mismatch(Exception):
    """A difference between what a client read and the sidecar."""


def expected_geoms(side):
    return [shapely.from_wkb(bytes.fromhex(h)) if h is not None else None for h in side["wkb_hex"]]


def compare_geoms(side, actual) -> None:
    expected = expected_geoms(side)
    if len(actual) != len(expected):
        raise Mismatch(f"{len(actual)} geometries, expected {len(expected)}")
    bad = [i for i, (e, a) in enumerate(zip(expected, actual)) if not geoms_equal(e, a)]
    if bad:
        i = bad[0]
        def show(g):
            return None if g is None else shapely.to_wkt(g, rounding_precision=-1)

        raise Mismatch(f"{len(bad)} geometries differ; row {i}: got {show(actual[i])}, expected {show(expected[i])}")


def compare_columns(side, get_column, present) -> None:
    for name, spec in side["columns"].items():
        if name not in present:
            raise Mismatch(f"column {name!r} missing (have {sorted(present)})")
        values = list(get_column(name))
        expected = spec["values"]
        if len(values) != len(expected):
            raise Mismatch(f"column {name!r}: {len(values)} values, expected {len(expected)}")
        for i, (e, a) in enumerate(zip(expected, values)):
            if not values_equal(e, a):
                raise Mismatch(f"column {name!r} row {i}: got {plain(a)!r}, expected {e!r}")


def epsg_of_text(text: str | None):
    """The EPSG code or "OGC:CRS84" named by a CRS string (PROJJSON, EPSG:n, srid:n)."""
    if text is None or text == "":
        return None
    t = text.strip()
    if t.startswith("{"):
        try:
            doc = json.loads(t)
        except ValueError:
            return f"unparsable PROJJSON {t[:40]}"
        ident = doc.get("id") or {}
        if ident.get("authority") == "OGC" and str(ident.get("code")) == "CRS84":
            return "OGC:CRS84"
        if ident.get("authority") == "EPSG":
            return f"EPSG:{ident.get('code')}"
        return f"PROJJSON without EPSG id ({doc.get('name')})"
    upper = t.upper()
    if upper.startswith("SRID:"):
        return "srid:0" if t[5:] == "0" else f"EPSG:{t[5:]}"
    if upper in ("OGC:CRS84", "EPSG:4326"):
        return upper
    return t


def lonlat(expected) -> bool:
    return expected in ("OGC:CRS84", "EPSG:4326")


# --- GeoPandas ---------------------------------------------------------------------


def read_geopandas(path, side) -> None:
    import geopandas as gpd
    import pyproj

    try:
        gdf = gpd.read_parquet(path)
    except ValueError as e:
        if side["version"] is None and "Missing geo metadata" in str(e):
            raise Skip(
                f"GeoPandas {gpd.__version__} reads only files with a geo key, "
                "not metadata-less Parquet GEOMETRY columns"
            ) from e
        raise
    if len(gdf) != side["rows"]:
        raise Mismatch(f"{len(gdf)} rows, expected {side['rows']}")
    if gdf.geometry.name != side["primary_column"]:
        raise Mismatch(f"active geometry column {gdf.geometry.name!r}, expected {side['primary_column']!r}")
    compare_geoms(side, list(gdf.geometry.array))
    compare_columns(side, lambda n: gdf[n], set(gdf.columns))
    expected, crs = side["crs"], gdf.crs
    if expected is None:
        if crs is not None:
            raise Mismatch(f"CRS {crs.to_string()}, expected none (unknown)")
    elif crs is None:
        raise Mismatch(f"no CRS, expected {expected}")
    elif lonlat(expected):
        # GeoParquet treats EPSG:4326 as OGC:CRS84 (lon/lat axis order either way).
        if not (crs.equals(pyproj.CRS("OGC:CRS84")) or crs.to_epsg() == 4326):
            raise Mismatch(f"CRS {crs.to_string()}, expected {expected}")
    elif crs.to_epsg() != int(expected.split(":")[1]):
        raise Mismatch(f"CRS {crs.to_string()}, expected {expected}")


# --- pyarrow -----------------------------------------------------------------------


def fmt(v) -> str:
    return repr(float(v))


def coord_text(c: dict, dims: str) -> str:
    return " ".join(fmt(c[d]) for d in dims)


def geoarrow_to_wkt(encoding: str, value, dims: str):
    """WKT of one GeoArrow "separated" value (Python form from to_pylist)."""
    if value is None:
        return None
    tag = {"xy": "", "xyz": " Z", "xym": " M", "xyzm": " ZM"}[dims]

    def seq(coords):
        return "(" + ", ".join(coord_text(c, dims) for c in coords) + ")"

    def rings(poly):
        return "(" + ", ".join(seq(r) for r in poly) + ")"

    if encoding == "point":
        if all(math.isnan(value[d]) for d in dims):
            return f"POINT{tag} EMPTY"
        return f"POINT{tag} ({coord_text(value, dims)})"
    name = encoding.upper()
    if not value:
        return f"{name}{tag} EMPTY"
    if encoding == "linestring":
        body = seq(value)
    elif encoding == "polygon":
        body = rings(value)
    elif encoding == "multipoint":
        body = "(" + ", ".join("(" + coord_text(c, dims) + ")" for c in value) + ")"
    elif encoding == "multilinestring":
        body = "(" + ", ".join(seq(line) for line in value) + ")"
    elif encoding == "multipolygon":
        body = "(" + ", ".join(rings(p) for p in value) + ")"
    else:
        raise Mismatch(f"unknown GeoArrow encoding {encoding!r}")
    return f"{name}{tag} {body}"


def struct_dims(arrow_type) -> str:
    import pyarrow as pa

    t = arrow_type
    while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        t = t.value_type
    if not pa.types.is_struct(t):
        raise Mismatch(f"GeoArrow column of type {arrow_type}, expected struct coordinates")
    return "".join(t.field(i).name for i in range(t.num_fields))


def read_pyarrow(path, side) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    table = pf.read()
    if table.num_rows != side["rows"]:
        raise Mismatch(f"{table.num_rows} rows, expected {side['rows']}")
    col_name = side["primary_column"]
    if col_name not in table.column_names:
        raise Mismatch(f"no column {col_name!r}")
    column = table.column(col_name).combine_chunks()
    storage = column.storage if isinstance(column, pa.ExtensionArray) else column
    t = storage.type
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        actual = [shapely.from_wkb(v) if v is not None else None for v in storage.to_pylist()]
    else:
        dims = struct_dims(t)
        actual = [
            shapely.from_wkt(w) if w is not None else None
            for w in (geoarrow_to_wkt(side["encoding"], v, dims) for v in storage.to_pylist())
        ]
    compare_geoms(side, actual)
    compare_columns(side, lambda n: table.column(n).to_pylist(), set(table.column_names))
    # The Parquet side as pyarrow sees it: logical type, its CRS, geo statistics.
    schema = pf.metadata.schema
    index = next((i for i in range(len(schema)) if schema.column(i).path == col_name), None)
    native = side["version"] is None or side["version"].startswith("2.")
    if index is None:
        if native:
            raise Mismatch(f"no leaf column {col_name!r} in the Parquet schema")
        return
    logical = schema.column(index).logical_type
    if not native:
        return
    if logical.type != "GEOMETRY":
        raise Mismatch(f"Parquet logical type {logical.type}, expected GEOMETRY")
    crs_text = json.loads(logical.to_json()).get("crs")
    if crs_text and crs_text.startswith("projjson:"):
        kv = pf.metadata.metadata or {}
        crs_text = (kv.get(crs_text[9:].encode()) or b"").decode() or None
    got = epsg_of_text(crs_text)
    expected = side["crs"]
    ok = (
        (expected is None and got == "srid:0")
        or (lonlat(expected) and (got is None or lonlat(got)))
        or (expected is not None and not lonlat(expected) and got == expected)
    )
    if not ok:
        shown = "omitted (= OGC:CRS84)" if crs_text is None else repr(crs_text[:60])
        wanted = "srid:0 (unknown CRS)" if expected is None else expected
        raise Mismatch(f"Parquet GEOMETRY crs {shown}, expected {wanted}")
    want = sorted(type_code(n) for n in side["geometry_types"])
    for rg in range(pf.metadata.num_row_groups):
        chunk = pf.metadata.row_group(rg).column(index)
        stats = chunk.geo_statistics if chunk.is_geo_stats_set else None
        if stats is None:
            raise Mismatch(f"row group {rg}: no geospatial statistics")
        types = sorted(stats.geospatial_types or [])
        if pf.metadata.num_row_groups == 1 and types and types != want:
            raise Mismatch(f"geospatial statistics types {types}, expected {want}")


# --- DuckDB ------------------------------------------------------------------------


def duckdb_connection():
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    try:
        con.execute("SELECT ST_AsWKB(ST_GeomFromWKB(from_hex('0101000000000000000000F03F0000000000000040')))")
    except duckdb.Error:
        try:
            con.execute("LOAD spatial")
        except duckdb.Error:
            return None, "no GEOMETRY support offline (DuckDB core type absent, spatial extension not installed)"
    return con, None


def read_duckdb(con, path, side) -> None:
    q = path.replace("'", "''")
    described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{q}')").fetchall()
    types = {row[0]: row[1] for row in described}
    col = side["primary_column"]
    geom_type = types.get(col)
    if geom_type is None:
        raise Mismatch(f"no column {col!r}")
    if geom_type.startswith("STRUCT"):
        raise Skip("DuckDB reads GeoArrow-encoded columns as STRUCT (needs the duck_geoarrow extension)")
    if not geom_type.startswith("GEOMETRY"):
        raise Mismatch(f"column {col!r} read as {geom_type}, not GEOMETRY")
    others = list(side["columns"])
    missing = [c for c in others if c not in types]
    if missing:
        raise Mismatch(f"columns missing: {missing}")
    select = ", ".join(f'"{c}"' for c in others)
    rows = con.execute(
        f'SELECT {select}, ST_AsWKB("{col}") FROM read_parquet(\'{q}\')'
    ).fetchall()
    if len(rows) != side["rows"]:
        raise Mismatch(f"{len(rows)} rows, expected {side['rows']}")
    actual = [shapely.from_wkb(bytes(r[-1])) if r[-1] is not None else None for r in rows]
    compare_geoms(side, actual)
    compare_columns(side, lambda n: [r[others.index(n)] for r in rows], set(others))
    crs_text = geom_type[len("GEOMETRY") :].strip()
    crs_text = crs_text[2:-2] if crs_text.startswith("('") else None
    got = epsg_of_text(crs_text)
    expected = side["crs"]
    # DuckDB has no "unknown" CRS distinct from "none": a GEOMETRY without CRS
    # stands for both; it also drops the (default) lon/lat CRS of native columns.
    ok = (
        (expected is None and got is None)
        or (lonlat(expected) and (got is None or lonlat(got)))
        or (expected is not None and got == expected)
    )
    if not ok:
        shown = "none" if crs_text is None else repr(crs_text[:60])
        raise Mismatch(f"GEOMETRY CRS {shown} ({got}), expected {expected or 'none (unknown)'}")


class Skip(Exception):
    """The client cannot read this kind of file at all (not a mismatch)."""


def run(reader_name, fn, path, side, results) -> None:
    try:
        fn(path, side)
        result = "ok"
    except Skip as e:
        result = f"skipped: {e}"
    except Mismatch as e:
        result = f"FAILED: {e}"
    except Exception as e:  # noqa: BLE001 - any client error is a result
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        result = f"FAILED: {type(e).__name__}: {first}"
        if not first:
            result += traceback.format_exc(limit=2).replace("\n", " ")
    results.append({"path": path, "reader": reader_name, "result": result})


def main(argv: list[str]) -> int:
    paths = argv[1:]
    if not paths:
        print("usage: read_ours.py FILE.parquet [FILE.parquet ...]", file=sys.stderr)
        return 2
    v = versions()
    results: list = []
    con, duck_reason = duckdb_connection()
    for path in paths:
        with open(path[: -len(".parquet")] + ".expected.json", encoding="utf-8") as f:
            side = json.load(f)
        run(f"geopandas {v['geopandas']}", read_geopandas, path, side, results)
        run(f"pyarrow {v['pyarrow']}", read_pyarrow, path, side, results)
        if con is None:
            results.append({"path": path, "reader": f"duckdb {v['duckdb']}", "result": f"skipped: {duck_reason}"})
        else:
            run(f"duckdb {v['duckdb']}", lambda p, s: read_duckdb(con, p, s), path, side, results)
    emit({"versions": v, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
