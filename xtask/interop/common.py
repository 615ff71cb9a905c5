"""Helpers shared by write_theirs.py and read_ours.py (cargo xtask interop).

Sidecar format (``<stem>.expected.json`` next to ``<stem>.parquet``)::

    {
      "writer": "geopandas 1.2.0",          # who wrote the file
      "options": {...},                     # writer options, for people
      "rows": 10,
      "primary_column": "geometry",
      "geometry_types": ["Point", ...],     # sorted, with " Z" / " M" / " ZM"
      "crs": "EPSG:4326" | "OGC:CRS84" | null,   # null: CRS explicitly unknown
      "version": "1.1.0" | null,            # null: no "geo" key expected
      "encoding": "WKB" | "point" | ...,
      "covering": false,
      "wkt": [...], "wkb_hex": [...],       # per row, null for a null geometry
      "columns": {"id": {"type": "int64", "values": [...]}, ...}
    }
"""

from __future__ import annotations

import importlib.metadata
import json
import math
import sys

import shapely


def versions() -> dict:
    """Versions of the Python clients in this venv."""
    out = {}
    for name in ("geopandas", "pyarrow", "shapely", "duckdb", "pandas", "numpy", "pyproj"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    out["geos"] = shapely.geos_version_string
    out["python"] = sys.version.split()[0]
    return out


def geometry_type_name(geom) -> str:
    """GeoParquet geometry type name of one shapely geometry, with its suffix."""
    base = geom.geom_type
    z = bool(shapely.has_z(geom))
    m = bool(shapely.has_m(geom)) if hasattr(shapely, "has_m") else False
    if z and m:
        return base + " ZM"
    if z:
        return base + " Z"
    if m:
        return base + " M"
    return base


def geometry_types(geoms) -> list[str]:
    """Sorted unique geometry types of the non-null geometries (empties count)."""
    return sorted({geometry_type_name(g) for g in geoms if g is not None})


def wkt(geom) -> str | None:
    if geom is None:
        return None
    return shapely.to_wkt(geom, rounding_precision=-1)


def wkb_hex(geom) -> str | None:
    if geom is None:
        return None
    return shapely.to_wkb(geom, hex=True, output_dimension=4, flavor="iso")


def geoms_equal(a, b) -> bool:
    """Exact equality: same structure, dimensions and coordinates (tolerance 0)."""
    if a is None or b is None:
        return a is None and b is None
    if a.geom_type != b.geom_type:
        return False
    if bool(shapely.has_z(a)) != bool(shapely.has_z(b)):
        return False
    if hasattr(shapely, "has_m") and bool(shapely.has_m(a)) != bool(shapely.has_m(b)):
        return False
    if hasattr(shapely, "equals_identical"):
        return bool(shapely.equals_identical(a, b))
    if a.is_empty or b.is_empty:
        return a.is_empty and b.is_empty
    return bool(shapely.equals_exact(a, b, tolerance=0))


def is_null(v) -> bool:
    if v is None:
        return True
    try:
        import pandas as pd

        if v is pd.NA or v is pd.NaT:
            return True
    except ImportError:
        pass
    return isinstance(v, float) and math.isnan(v)


def plain(v):
    """A JSON-friendly Python value (numpy scalars to Python, nulls to None)."""
    if is_null(v):
        return None
    if hasattr(v, "item"):
        v = v.item()
    return v


def values_equal(expected, actual) -> bool:
    if expected is None:
        return is_null(actual)
    if is_null(actual):
        return False
    actual = plain(actual)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, float) or isinstance(actual, float):
        return isinstance(actual, (int, float)) and float(actual) == float(expected)
    return expected == actual


def emit(doc) -> None:
    """Print the result document for interop.rs (the only thing on stdout)."""
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    sys.stdout.flush()
