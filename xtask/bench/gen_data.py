"""Generates the seeded benchmark data for `cargo xtask bench`.

    python gen_data.py OUT_DIR --scale S [--seed N]

Writes into OUT_DIR (reusing it when manifest.json says it was made by this
script, with the same scale and seed):

- points_random.parquet / points_sorted.parquet: 5 M x S world points
- polygons_random.parquet / polygons_sorted.parquet: 500 k x S small polygons
- points.ndjson: the first 1 M x S points as GeoJSON features, one per line
- points_10x.ndjson: points.ndjson ten times over (streaming-memory check)
- points_10x.parquet: points_random.parquet's rows ten times over (same check)
- manifest.json: what was written, the bbox queries, and the generator versions

All Parquet files are GeoParquet 1.1.0, WKB, with a covering `bbox` column,
ZSTD, 100 000 rows per row group (the size geoquet itself writes) and a page
index, written by GeoPandas. "sorted" copies are ordered by
`GeoSeries.hilbert_distance()` over the world extent; "random" copies are in
random order. Prints manifest.json on standard output.
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import time

GENERATOR = 3  # bump when the data changes shape
ROW_GROUP_ROWS = 100_000
POINTS = 5_000_000
POLYGONS = 500_000
NDJSON_POINTS = 1_000_000
WORLD = (-180.0, -90.0, 180.0, 90.0)
# A 1%-area box: a 10 x 10 grid over the world; the query is the grid cell
# holding the most points.
GRID = 10


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def script_hash() -> str:
    with open(__file__, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def centres(rng, n, clusters):
    """World positions: 60% around `clusters` (Gaussian, 0.3 to 3 degrees), 40% uniform."""
    import numpy as np

    n_clustered = int(n * 0.6)
    cx = rng.uniform(-170.0, 170.0, len(clusters[0])) if clusters is None else clusters[0]
    cy = clusters[1]
    sigma = clusters[2]
    which = rng.integers(0, len(cx), n_clustered)
    x = rng.normal(cx[which], sigma[which])
    y = rng.normal(cy[which], sigma[which] * 0.7)
    ux = rng.uniform(-180.0, 180.0, n - n_clustered)
    uy = rng.uniform(-90.0, 90.0, n - n_clustered)
    x = np.clip(np.concatenate([x, ux]), -180.0, 180.0)
    y = np.clip(np.concatenate([y, uy]), -90.0, 90.0)
    order = rng.permutation(n)
    return x[order], y[order]


def attributes(rng, n):
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = np.arange(n, dtype=np.int64)
    value = rng.normal(100.0, 25.0, n)
    code = pa.array(rng.integers(0, 50_000, n)).cast(pa.string())
    name = pc.binary_join_element_wise("place-", code, "")
    return ids, value, name


def frame(geoms, ids, value, name):
    import geopandas

    return geopandas.GeoDataFrame(
        {"id": ids, "value": value, "name": name.to_numpy(zero_copy_only=False)},
        geometry=geoms,
        crs="OGC:CRS84",
    )


def write_pair(gdf, out_dir, stem):
    """Writes the random-order and the Hilbert-sorted copy."""
    import numpy as np

    kw = dict(
        compression="zstd",
        write_covering_bbox=True,
        schema_version="1.1.0",
        row_group_size=ROW_GROUP_ROWS,
        write_page_index=True,
        index=False,
    )
    t = time.time()
    gdf.to_parquet(os.path.join(out_dir, f"{stem}_random.parquet"), **kw)
    log(f"  {stem}_random.parquet in {time.time() - t:.1f} s")
    t = time.time()
    h = gdf.geometry.hilbert_distance(total_bounds=WORLD)
    order = np.argsort(np.asarray(h), kind="stable")
    gdf.iloc[order].to_parquet(os.path.join(out_dir, f"{stem}_sorted.parquet"), **kw)
    log(f"  {stem}_sorted.parquet in {time.time() - t:.1f} s")


def densest_cell(x, y):
    import numpy as np

    w = (WORLD[2] - WORLD[0]) / GRID
    h = (WORLD[3] - WORLD[1]) / GRID
    ix = np.clip(((x - WORLD[0]) // w).astype(int), 0, GRID - 1)
    iy = np.clip(((y - WORLD[1]) // h).astype(int), 0, GRID - 1)
    counts = np.bincount(ix * GRID + iy, minlength=GRID * GRID)
    best = int(np.argmax(counts))
    bx, by = divmod(best, GRID)
    xmin = WORLD[0] + bx * w
    ymin = WORLD[1] + by * h
    return [xmin, ymin, xmin + w, ymin + h], int(counts[best])


def write_ndjson(path, x, y, ids, value, name):
    import numpy as np

    names = name.to_pylist()
    with open(path, "w", encoding="utf-8") as f:
        step = 100_000
        for start in range(0, len(x), step):
            end = min(start + step, len(x))
            lines = [
                '{"type":"Feature","geometry":{"type":"Point","coordinates":[%r,%r]},'
                '"properties":{"id":%d,"value":%r,"name":"%s"}}\n'
                % (float(x[i]), float(y[i]), int(ids[i]), float(value[i]), names[i])
                for i in range(start, end)
            ]
            f.write("".join(lines))
    del np


def repeat_file(src, dst, times):
    with open(dst, "wb") as out:
        for _ in range(times):
            with open(src, "rb") as f:
                shutil.copyfileobj(f, out, 16 << 20)


def repeat_parquet(src, dst, times):
    """The same rows `times` over, same schema and `geo` metadata (the bbox is unchanged)."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    with pq.ParquetWriter(
        dst, pf.schema_arrow, compression="zstd", write_page_index=True
    ) as w:
        for _ in range(times):
            for rg in range(pf.num_row_groups):
                w.write_table(pf.read_row_group(rg), row_group_size=ROW_GROUP_ROWS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=20260501)
    args = ap.parse_args()
    out = args.out_dir
    os.makedirs(out, exist_ok=True)
    manifest_path = os.path.join(out, "manifest.json")
    key = {"generator": GENERATOR, "script": script_hash(), "scale": args.scale, "seed": args.seed}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old = json.load(f)
        if old.get("key") == key and all(
            os.path.exists(os.path.join(out, p)) for p in old.get("files", {})
        ):
            log(f"reusing {out}")
            old["reused"] = True
            print(json.dumps(old))
            return
    if os.path.exists(manifest_path):
        os.remove(manifest_path)

    import numpy as np
    import geopandas
    import pyarrow
    import shapely

    started = time.time()
    rng = np.random.default_rng(args.seed)
    n_pts = max(1000, int(POINTS * args.scale))
    n_poly = max(1000, int(POLYGONS * args.scale))
    n_nd = max(1000, int(NDJSON_POINTS * args.scale))
    k = 200
    clusters = (
        rng.uniform(-170.0, 170.0, k),
        rng.uniform(-55.0, 70.0, k),
        rng.uniform(0.3, 3.0, k),
    )

    log(f"points: {n_pts}")
    x, y = centres(rng, n_pts, clusters)
    ids, value, name = attributes(rng, n_pts)
    gdf = frame(shapely.points(x, y), ids, value, name)
    write_pair(gdf, out, "points")
    bbox_points, hits_points = densest_cell(x, y)
    del gdf

    log(f"ndjson: {n_nd} points")
    t = time.time()
    write_ndjson(os.path.join(out, "points.ndjson"), x[:n_nd], y[:n_nd], ids[:n_nd], value[:n_nd], name.slice(0, n_nd))
    repeat_file(os.path.join(out, "points.ndjson"), os.path.join(out, "points_10x.ndjson"), 10)
    log(f"  in {time.time() - t:.1f} s")
    t = time.time()
    repeat_parquet(os.path.join(out, "points_random.parquet"), os.path.join(out, "points_10x.parquet"), 10)
    log(f"points_10x.parquet in {time.time() - t:.1f} s")
    del x, y, ids, value, name

    log(f"polygons: {n_poly}")
    cx, cy = centres(rng, n_poly, clusters)
    # Radius 1 to 5 km; 4 to 8 vertices at sorted random angles (star-shaped, so simple).
    radius_deg = rng.uniform(1.0, 5.0, n_poly) / 111.32
    nverts = rng.integers(4, 9, n_poly)
    geoms = np.empty(n_poly, dtype=object)
    coslat = np.maximum(np.cos(np.radians(cy)), 0.05)
    for nv in range(4, 9):
        sel = np.nonzero(nverts == nv)[0]
        m = len(sel)
        if m == 0:
            continue
        ang = np.sort(rng.uniform(0.0, 2 * np.pi, (m, nv)), axis=1)
        rad = radius_deg[sel, None] * rng.uniform(0.6, 1.0, (m, nv))
        px = cx[sel, None] + rad * np.cos(ang) / coslat[sel, None]
        py = cy[sel, None] + rad * np.sin(ang)
        ring = np.stack([px, py], axis=2)
        ring = np.concatenate([ring, ring[:, :1, :]], axis=1)
        geoms[sel] = shapely.polygons(ring)
    ids, value, name = attributes(rng, n_poly)
    gdf = frame(geoms, ids, value, name)
    write_pair(gdf, out, "polygons")
    bbox_polygons, hits_polygons = densest_cell(cx, cy)
    del gdf, geoms

    files = {}
    for p in sorted(os.listdir(out)):
        if p.endswith((".parquet", ".ndjson")):
            files[p] = os.path.getsize(os.path.join(out, p))
    doc = {
        "key": key,
        "reused": False,
        "seed": args.seed,
        "scale": args.scale,
        "rows": {"points": n_pts, "polygons": n_poly, "ndjson": n_nd, "ndjson_10x": n_nd * 10, "points_10x": n_pts * 10},
        "row_group_rows": ROW_GROUP_ROWS,
        "bbox": {"points": bbox_points, "polygons": bbox_polygons},
        "bbox_centres_inside": {"points": hits_points, "polygons": hits_polygons},
        "files": files,
        "versions": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "shapely": shapely.__version__,
            "geopandas": geopandas.__version__,
            "pyarrow": pyarrow.__version__,
        },
        "generation_s": round(time.time() - started, 1),
    }
    with open(manifest_path, "w") as f:
        json.dump(doc, f, indent=1)
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
