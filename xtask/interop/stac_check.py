"""stac-geoparquet cross-checks for `cargo xtask interop` (run by interop_stac.rs).

usage: python stac_check.py GEOQUET CORPUS_STAC OUT_DIR

1. Our files, read by Python stac-geoparquet (stac_table_to_items), rustac
   (rustac.read) and GeoPandas, against the JSON they were written from.
2. Files written by Python stac-geoparquet and rustac from the same JSON, read
   by us (geoquet stac to-ndjson), against that JSON.

Comparisons are modulo each writer's/reader's documented losses (reference
section 5): nulls vs missing, ints vs floats, datetime text (instants, to the
precision the client keeps), and for rustac its stac_version rewrite,
Polygon -> MultiPolygon and dropped Z. Prints one JSON document.
"""

import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import traceback

import geopandas
import pyarrow.parquet as pq
import rustac
import stac_geoparquet
import stac_geoparquet.arrow as sga

FIXTURE_DIRS = ["stac-spec", "stac-geoparquet-py", "rustac", "rustac-py"]


def load_items(path):
    with open(path) as f:
        if path.endswith(".ndjson"):
            return [json.loads(l) for l in f if l.strip()]
        v = json.load(f)
    if isinstance(v, list):
        return v
    if v.get("type") == "FeatureCollection":
        return v["features"]
    if v.get("type") in ("Collection", "Catalog"):
        return None
    return [v]


def fixtures(corpus):
    out = []
    for d in FIXTURE_DIRS:
        for root, _, files in os.walk(os.path.join(corpus, d)):
            for name in sorted(files):
                if not (name.endswith(".json") or name.endswith(".ndjson")):
                    continue
                p = os.path.join(root, name)
                items = load_items(p)
                if items is None:
                    continue
                rel = os.path.relpath(p, corpus)
                out.append((rel, p, items))
    return sorted(out)


def instant(s, unit):
    if not isinstance(s, str) or len(s) < 19 or s[4] != "-" or s[7] != "-" or s[13] != ":":
        return None
    t = s.replace(" ", "T").replace("t", "T").replace("z", "Z")
    if t.endswith("Z"):
        t = t[:-1] + "+00:00"
    frac = ""
    if "." in t[19:]:
        head, rest = t[:19], t[20:]
        digits = ""
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        frac, t = digits, head + rest
    try:
        d = dt.datetime.fromisoformat(t)
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone.utc)
    ns = int(d.timestamp()) * 10**9 + int((frac + "000000000")[:9] or 0)
    return "t%d" % (ns // unit)


def xy(c, out):
    if isinstance(c, (list, tuple)):
        if c and isinstance(c[0], (int, float)):
            out.append((float(c[0]), float(c[1])))
        else:
            for x in c:
                xy(x, out)


def norm(v, unit, rustac_like, key=""):
    if isinstance(v, dict):
        if rustac_like and key in ("geometry", "proj:geometry") and "type" in v:
            pts = []
            xy(v.get("coordinates", []), pts)
            return {"family": v["type"].replace("Multi", ""), "xy": pts}
        out = {}
        for k, x in v.items():
            if x is None or k == "geoquet:patches":
                continue
            if key == "geometry" and k == "bbox":
                continue
            if rustac_like and k == "stac_version":
                continue
            if k == "stac_extensions" and x == []:
                continue
            out[k] = norm(x, unit, rustac_like, k)
        return out
    if isinstance(v, (list, tuple)):
        return [norm(x, unit, rustac_like, key) for x in v]
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        i = instant(v, unit)
        return i if i is not None else v
    return v


def diff(a, b, path=""):
    if type(a) is not type(b):
        return "%s: %r != %r" % (path or "/", a, b)
    if isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return "%s/%s: only in %s" % (path, k, "ours" if k in a else "source")
            d = diff(a[k], b[k], path + "/" + k)
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s: %d vs %d elements" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            d = diff(x, y, "%s/%d" % (path, i))
            if d:
                return d
        return None
    return None if a == b else "%s: %r != %r" % (path or "/", a, b)


def compare(got, want, unit, rustac_like):
    if len(got) != len(want):
        return "%d items, expected %d" % (len(got), len(want))
    for i, (g, w) in enumerate(zip(got, want)):
        d = diff(norm(g, unit, rustac_like), norm(w, unit, rustac_like))
        if d:
            return "item %d: %s" % (i, d)
    return None


def null_geometry(items):
    return any(i.get("geometry") is None for i in items)


async def _await(f, *args):
    return await f(*args)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd[1:3]), p.stderr.strip()))
    return p.stdout


def main():
    geoquet, corpus, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    results = {"versions": {"stac-geoparquet": stac_geoparquet.__version__, "rustac": getattr(rustac, "__version__", "0.9.18")}}
    fx = fixtures(corpus)
    ours = {}
    checks = {k: {"ok": 0, "failures": [], "known": []} for k in
              ["py_reads_ours", "rustac_reads_ours", "geopandas_reads_ours", "we_read_py", "we_read_rustac", "ours_lossless"]}
    for rel, path, items in fx:
        name = rel.replace("/", "__").rsplit(".", 1)[0]
        dest = os.path.join(out, "ours", name + ".parquet")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            run([geoquet, "-q", "stac", "to-parquet", path, dest])
            back = [json.loads(l) for l in run([geoquet, "stac", "to-ndjson", dest, "-"]).splitlines()]
            if back == items:
                checks["ours_lossless"]["ok"] += 1
            else:
                checks["ours_lossless"]["failures"].append("%s: not equal" % rel)
        except Exception as e:  # noqa: BLE001
            checks["ours_lossless"]["failures"].append("%s: %s" % (rel, e))
            continue
        ours[rel] = dest
        nullgeom = null_geometry(items)
        # Python stac-geoparquet.
        try:
            table = pq.read_table(dest)
            got = list(sga.stac_table_to_items(table))
            d = compare(got, items, 1000, False)
            if d:
                checks["py_reads_ours"]["failures"].append("%s: %s" % (rel, d))
            else:
                checks["py_reads_ours"]["ok"] += 1
        except Exception as e:  # noqa: BLE001
            msg = "%s: %s" % (rel, str(e).splitlines()[0] if str(e) else type(e).__name__)
            (checks["py_reads_ours"]["known"] if nullgeom else checks["py_reads_ours"]["failures"]).append(msg)
        # rustac.
        try:
            got = asyncio.run(_await(rustac.read, dest))
            got = got["features"] if isinstance(got, dict) and "features" in got else got
            got = [json.loads(json.dumps(i)) for i in got]
            d = compare(got, items, 10**6, True)
            if d and nullgeom:
                # rustac reads a null geometry as an empty Polygon (its reader, not our file).
                checks["rustac_reads_ours"]["known"].append("%s: %s" % (rel, d))
            elif d:
                checks["rustac_reads_ours"]["failures"].append("%s: %s" % (rel, d))
            else:
                checks["rustac_reads_ours"]["ok"] += 1
        except Exception as e:  # noqa: BLE001
            msg = "%s: %s" % (rel, str(e).splitlines()[0] if str(e) else type(e).__name__)
            (checks["rustac_reads_ours"]["known"] if nullgeom else checks["rustac_reads_ours"]["failures"]).append(msg)
        # GeoPandas.
        try:
            gdf = geopandas.read_parquet(dest)
            geo = json.loads(pq.read_metadata(dest).metadata[b"geo"])
            ok = len(gdf) == len(items) and gdf.crs is not None and gdf.crs.to_string() in ("OGC:CRS84", "EPSG:4326")
            bbox = geo["columns"]["geometry"].get("bbox")
            if ok and bbox and gdf.geometry.notna().any():
                tb = [float(x) for x in gdf.total_bounds]
                ok = all(abs(a - b) < 1e-9 for a, b in zip(tb, bbox[:2] + bbox[-3:-1] if len(bbox) == 6 else bbox))
            if ok:
                checks["geopandas_reads_ours"]["ok"] += 1
            else:
                checks["geopandas_reads_ours"]["failures"].append("%s: rows/crs/bounds differ" % rel)
        except Exception as e:  # noqa: BLE001
            checks["geopandas_reads_ours"]["failures"].append("%s: %s" % (rel, e))
        # Their files, read by us.
        if nullgeom:
            continue
        for key, writer, unit, rustac_like in [("we_read_py", "py", 1000, False), ("we_read_rustac", "rustac", 10**6, True)]:
            theirs = os.path.join(out, writer, name + ".parquet")
            os.makedirs(os.path.dirname(theirs), exist_ok=True)
            try:
                if writer == "py":
                    reader = sga.parse_stac_items_to_arrow(items)
                    sga.to_parquet(reader, theirs)
                else:
                    asyncio.run(_await(rustac.write, theirs, items))
            except Exception as e:  # noqa: BLE001
                checks[key]["known"].append("%s: %s cannot write it: %s" % (rel, writer, str(e).splitlines()[0] if str(e) else type(e).__name__))
                continue
            try:
                got = [json.loads(l) for l in run([geoquet, "stac", "to-ndjson", theirs, "-"]).splitlines()]
                d = compare(got, items, unit, rustac_like)
                if d:
                    checks[key]["failures"].append("%s: %s" % (rel, d))
                else:
                    checks[key]["ok"] += 1
            except Exception as e:  # noqa: BLE001
                checks[key]["failures"].append("%s: %s" % (rel, e))
    results["checks"] = checks
    results["fixtures"] = len(fx)
    print(json.dumps(results))


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        sys.exit(1)
