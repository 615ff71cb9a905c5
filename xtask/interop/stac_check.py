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
            if x is None:
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


def covering(item):
    """The bbox our writer stores for an item (docs/src/stac.md): the item's,
    the geometry's when it has none, widened when it does not hold the
    geometry (to the whole longitude range when it crosses the antimeridian)."""
    geom = item.get("geometry")
    b = item.get("bbox")
    if not isinstance(geom, dict):
        return b
    pts = []
    xy(geom.get("coordinates", []), pts)
    for part in geom.get("geometries", []) or []:
        xy(part.get("coordinates", []), pts)
    if not pts:
        return b
    g = [min(p[0] for p in pts), min(p[1] for p in pts), max(p[0] for p in pts), max(p[1] for p in pts)]
    if b is None:
        return g
    if len(b) not in (4, 6):
        return b
    x0, y0, x1, y1 = (0, 1, 2, 3) if len(b) == 4 else (0, 1, 3, 4)
    v = [float(x) for x in b]
    holds_y = v[y0] <= g[1] and v[y1] >= g[3]
    if v[x0] > v[x1]:
        # Crossing the antimeridian: kept when it holds the geometry (compare()
        # only asks when the bbox read differs), else the whole longitude range.
        v[x0], v[x1] = min(v[x0], g[0], -180.0), max(v[x1], g[2], 180.0)
    elif holds_y and v[x0] <= g[0] and v[x1] >= g[2]:
        return b
    else:
        v[x0], v[x1] = min(v[x0], g[0]), max(v[x1], g[2])
    v[y0], v[y1] = min(v[y0], g[1]), max(v[y1], g[3])
    return v


def compare(got, want, unit, rustac_like, widened=None):
    """The first difference (None when equal). With a `widened` list, a bbox
    that is the item's bbox widened to hold its geometry (or the geometry's,
    for an item without one) is accepted and the item's id noted there."""
    if len(got) != len(want):
        return "%d items, expected %d" % (len(got), len(want))
    for i, (g, w) in enumerate(zip(got, want)):
        if widened is not None and isinstance(g, dict) and g.get("bbox") is not None and g.get("bbox") != w.get("bbox"):
            c = covering(w)
            if c is not None and [float(x) for x in g["bbox"]] == [float(x) for x in c]:
                g = dict(g)
                if w.get("bbox") is None:
                    g.pop("bbox")
                else:
                    g["bbox"] = w["bbox"]
                widened.append(str(w.get("id")))
        d = diff(norm(g, unit, rustac_like), norm(w, unit, rustac_like))
        if d:
            return "item %d: %s" % (i, d)
    return None


# Not a client limit but our documented rule: the bbox column is a true covering.
WIDENED = "%s: the bbox of %d item(s) does not hold its geometry; the file's covering holds the widened box (to-ndjson gives the item's back)"


def null_geometry(items):
    return any(i.get("geometry") is None for i in items)


async def _await(f, *args):
    return await f(*args)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd[1:3]), p.stderr.strip()))
    return p.stdout


def generated_items():
    """Items as they come from the wider world (issue 14, classes 18-20):
    no bbox, a null bbox, a bbox that does not hold its geometry, open
    polygon rings, integer coordinates, a property whose type conflicts
    across items, a foreign member."""

    def item(i, geometry, **extra):
        d = {"type": "Feature", "stac_version": "1.1.0", "stac_extensions": [], "id": "gen-%d" % i,
             "geometry": geometry, "properties": {"datetime": "2020-01-0%dT00:00:00Z" % (i + 1)},
             "links": [], "assets": {"data": {"href": "https://example.com/%d.tif" % i}}}
        d.update(extra)
        return d

    items = [
        item(0, {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [4, 4], [0, 4]], [[1, 1], [2, 1], [2, 2]]]}),
        item(1, {"type": "Point", "coordinates": [5.5, 6.5]}, bbox=None),
        item(2, {"type": "MultiPolygon", "coordinates": [[[[10.0, 10.0], [11.0, 10.0], [11.0, 11.0]]]]},
             bbox=[10.0, 10.0, 10.5, 10.5]),
        item(3, {"type": "Point", "coordinates": [1.5, 2.5]}, bbox=[1.5, 2.5, 1.5, 2.5], foreign="member"),
    ]
    for it, v in zip(items, ["one", 2, {"k": [1, "x"]}, None]):
        it["properties"]["mixed"] = v
    return items


def closed(ring):
    return len(ring) >= 4 and list(ring[0]) == list(ring[-1])


def rings_of(g):
    if g["type"] == "Polygon":
        return g["coordinates"]
    if g["type"] == "MultiPolygon":
        return [r for p in g["coordinates"] for r in p]
    return []


def bounds(g):
    pts = []
    xy(g.get("coordinates", []), pts)
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return [min(xs), min(ys), max(xs), max(ys)]


def generated_checks(geoquet, out, checks):
    """Our file of generated_items(), read by Python stac-geoparquet, rustac and
    GeoPandas: it reads; no property the items did not have; every bbox holds its
    geometry (missing ones are the geometry's); rings are closed; the conflicting
    property is a JSON column (Parquet JSON logical type) whose values decode to
    the items'. Also our own round trip."""
    items = generated_items()
    src = os.path.join(out, "generated.ndjson")
    dest = os.path.join(out, "generated.parquet")
    with open(src, "w") as f:
        for it in items:
            f.write(json.dumps(it) + "\n")
    run([geoquet, "-q", "stac", "to-parquet", src, dest])
    back = [json.loads(l) for l in run([geoquet, "stac", "to-ndjson", dest, "-"]).splitlines()]
    if back != items:
        checks["generated_lossless"]["failures"].append("generated: to-ndjson differs from the items")
    else:
        checks["generated_lossless"]["ok"] += 1

    def problems_of(got, who):
        found = []
        if len(got) != len(items):
            return ["%s: %d items, expected %d" % (who, len(got), len(items))]
        for g, w in zip(got, items):
            extra = sorted(k for k, v in (g.get("properties") or {}).items()
                           if v is not None and k not in w["properties"])
            if extra:
                found.append("%s: %s has properties it never had: %s" % (who, w["id"], extra))
            if any(k.startswith("geoquet:") for k in g) or any(k.startswith("geoquet:") for k in (g.get("properties") or {})):
                found.append("%s: %s shows a geoquet: member" % (who, w["id"]))
            geom = g.get("geometry")
            if not isinstance(geom, dict):
                found.append("%s: %s has no geometry" % (who, w["id"]))
                continue
            if not all(closed(r) for r in rings_of(geom)):
                found.append("%s: %s has an open ring" % (who, w["id"]))
            b, gb = g.get("bbox"), bounds(geom)
            if not b or not (b[0] <= gb[0] and b[1] <= gb[1] and b[-2] >= gb[2] and b[-1] >= gb[3]):
                found.append("%s: %s bbox %r does not hold its geometry %r" % (who, w["id"], b, gb))
            if w.get("bbox") is None and b and [float(x) for x in b] != gb:
                found.append("%s: %s (no bbox) got %r, not its geometry's %r" % (who, w["id"], b, gb))
        return found

    # Python stac-geoparquet.
    try:
        got = list(sga.stac_table_to_items(pq.read_table(dest)))
        problems = problems_of(got, "stac_table_to_items")
        pf = pq.ParquetFile(dest)
        names = [pf.schema.column(i).name for i in range(len(pf.schema))]
        lt = str(pf.schema.column(names.index("mixed")).logical_type) if "mixed" in names else "absent"
        if lt != "JSON":
            problems.append("column mixed: logical type %s, not JSON" % lt)
        else:
            decoded = [json.loads(v) if v is not None else None for v in pq.read_table(dest, columns=["mixed"]).column(0).to_pylist()]
            if decoded != [it["properties"]["mixed"] for it in items]:
                problems.append("column mixed decodes to %r" % decoded)
        if problems:
            checks["generated_py"]["failures"].extend(problems)
        else:
            checks["generated_py"]["ok"] += 1
    except Exception as e:  # noqa: BLE001
        checks["generated_py"]["failures"].append("stac_table_to_items: %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__))
    # rustac.
    try:
        got = asyncio.run(_await(rustac.read, dest))
        got = got["features"] if isinstance(got, dict) and "features" in got else got
        got = [json.loads(json.dumps(i)) for i in got]
        problems = problems_of(got, "rustac.read")
        if problems:
            checks["generated_rustac"]["failures"].extend(problems)
        else:
            checks["generated_rustac"]["ok"] += 1
    except Exception as e:  # noqa: BLE001
        checks["generated_rustac"]["failures"].append("rustac.read: %s" % (str(e).splitlines()[0] if str(e) else type(e).__name__))
    # GeoPandas: reads, valid geometries (closed rings), bounds = the geo bbox.
    try:
        gdf = geopandas.read_parquet(dest)
        geo = json.loads(pq.read_metadata(dest).metadata[b"geo"])
        problems = []
        if len(gdf) != len(items):
            problems.append("GeoPandas: %d rows" % len(gdf))
        if "geoquet:patches" in gdf.columns:
            problems.append("GeoPandas: a geoquet:patches column")
        if not bool(gdf.geometry.is_valid.all()):
            problems.append("GeoPandas: invalid geometries %s" % gdf.geometry.is_valid.tolist())
        tb = [float(x) for x in gdf.total_bounds]
        if any(abs(a - b) > 1e-9 for a, b in zip(tb, geo["columns"]["geometry"]["bbox"])):
            problems.append("GeoPandas: bounds %r vs geo bbox %r" % (tb, geo["columns"]["geometry"]["bbox"]))
        if problems:
            checks["generated_geopandas"]["failures"].extend(problems)
        else:
            checks["generated_geopandas"]["ok"] += 1
    except Exception as e:  # noqa: BLE001
        checks["generated_geopandas"]["failures"].append("GeoPandas: %s" % e)


def main():
    geoquet, corpus, out = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    results = {"versions": {"stac-geoparquet": stac_geoparquet.__version__, "rustac": getattr(rustac, "__version__", "0.9.18")}}
    fx = fixtures(corpus)
    ours = {}
    checks = {k: {"ok": 0, "failures": [], "known": []} for k in
              ["py_reads_ours", "rustac_reads_ours", "geopandas_reads_ours", "we_read_py", "we_read_rustac", "ours_lossless",
               "generated_lossless", "generated_py", "generated_rustac", "generated_geopandas"]}
    try:
        generated_checks(geoquet, out, checks)
    except Exception as e:  # noqa: BLE001
        checks["generated_lossless"]["failures"].append("generated items: %s" % e)
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
            widened = []
            d = compare(got, items, 1000, False, widened)
            if d:
                checks["py_reads_ours"]["failures"].append("%s: %s" % (rel, d))
            elif widened:
                checks["py_reads_ours"]["known"].append(WIDENED % (rel, len(widened)))
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
            widened = []
            d = compare(got, items, 10**6, True, widened)
            if d and nullgeom:
                # rustac reads a null geometry as an empty Polygon (its reader, not our file).
                checks["rustac_reads_ours"]["known"].append("%s: %s" % (rel, d))
            elif d:
                checks["rustac_reads_ours"]["failures"].append("%s: %s" % (rel, d))
            elif widened:
                checks["rustac_reads_ours"]["known"].append(WIDENED % (rel, len(widened)))
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
