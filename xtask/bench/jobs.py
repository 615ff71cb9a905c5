"""One benchmark job of one Python client, run as its own process.

    python jobs.py TOOL JOB ARGS...

TOOL is geopandas, duckdb or pyarrow. JOB and ARGS:

    read_all IN                      read the whole file into memory (Arrow or a GeoDataFrame)
    bbox IN XMIN YMIN XMAX YMAX      read the rows whose bbox intersects the box
    rewrite IN OUT                   read IN and write OUT (each client's GeoParquet way)
    ndjson IN OUT                    read GeoJSON features, one per line, and write GeoParquet

Prints one JSON object: {"rows": N, ...}. Each process imports only its own
client, and the import counts: the harness times whole processes.
"""

import json
import sys


def out(doc):
    print(json.dumps(doc))


# --- GeoPandas ----------------------------------------------------------------------

GP_WRITE = dict(compression="zstd", write_covering_bbox=True, schema_version="1.1.0", index=False)


def geopandas_job(job, args):
    import geopandas

    if job == "read_all":
        gdf = geopandas.read_parquet(args[0])
        return {"rows": len(gdf)}
    if job == "bbox":
        box = tuple(float(v) for v in args[1:5])
        gdf = geopandas.read_parquet(args[0], bbox=box)
        return {"rows": len(gdf)}
    if job == "rewrite":
        gdf = geopandas.read_parquet(args[0])
        gdf.to_parquet(args[1], **GP_WRITE)
        return {"rows": len(gdf)}
    if job == "ndjson":
        gdf = geopandas.read_file(args[0])  # pyogrio, GeoJSONSeq driver
        gdf.to_parquet(args[1], **GP_WRITE)
        return {"rows": len(gdf)}
    raise SystemExit(f"geopandas: unknown job {job}")


# --- DuckDB -------------------------------------------------------------------------


def sql_str(s):
    return "'" + s.replace("'", "''") + "'"


def duckdb_job(job, args):
    import duckdb

    con = duckdb.connect()
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    src = sql_str(args[0])
    if job == "read_all":
        t = con.sql(f"SELECT * FROM read_parquet({src})").to_arrow_table()
        return {"rows": t.num_rows}
    if job == "bbox":
        x0, y0, x1, y1 = (float(v) for v in args[1:5])
        # The covering columns (the spatial extension's ST_Intersects cannot be
        # installed offline; DuckDB 2.0 core has no intersects test).
        t = con.sql(
            f"SELECT * FROM read_parquet({src}) WHERE bbox.xmin <= {x1} AND bbox.xmax >= {x0} "
            f"AND bbox.ymin <= {y1} AND bbox.ymax >= {y0}"
        ).to_arrow_table()
        return {"rows": t.num_rows}
    if job == "rewrite":
        # COPY returns the number of rows written.
        n = con.execute(
            f"COPY (SELECT * FROM read_parquet({src})) TO {sql_str(args[1])} "
            "(FORMAT parquet, COMPRESSION zstd)"
        ).fetchall()
        return {"rows": n[0][0]}
    if job == "ndjson":
        n = con.execute(
            "COPY (SELECT ST_GeomFromGeoJSON(geometry::JSON) AS geometry, properties.* "
            f"FROM read_json({src}, format='newline_delimited')) TO {sql_str(args[1])} "
            "(FORMAT parquet, COMPRESSION zstd)"
        ).fetchall()
        return {"rows": n[0][0]}
    raise SystemExit(f"duckdb: unknown job {job}")


# --- pyarrow (no geo) ---------------------------------------------------------------


def pyarrow_job(job, args):
    import pyarrow.parquet as pq

    if job == "read_all":
        return {"rows": pq.read_table(args[0]).num_rows}
    if job == "bbox":
        import pyarrow.compute as pc

        x0, y0, x1, y1 = (float(v) for v in args[1:5])
        f = pc.field
        expr = (
            (f("bbox", "xmin") <= x1)
            & (f("bbox", "xmax") >= x0)
            & (f("bbox", "ymin") <= y1)
            & (f("bbox", "ymax") >= y0)
        )
        t = pq.read_table(args[0], filters=expr)
        return {"rows": t.num_rows, "bytes_read_est": kept_row_group_bytes(args[0], x0, y0, x1, y1)}
    if job == "rewrite":
        t = pq.read_table(args[0])
        pq.write_table(t, args[1], compression="zstd")
        return {"rows": t.num_rows}
    raise SystemExit(f"pyarrow: unknown job {job}")


def kept_row_group_bytes(path, x0, y0, x1, y1):
    """Compressed bytes of the row groups whose covering statistics intersect the
    box: what a row-group-pruning reader has to fetch (pyarrow reads every
    column of those row groups; it does not use the page index)."""
    import pyarrow.parquet as pq

    md = pq.ParquetFile(path).metadata
    names = [md.schema.column(i).path for i in range(md.num_columns)]
    idx = {n: i for i, n in enumerate(names)}
    total = 0
    for rg in range(md.num_row_groups):
        r = md.row_group(rg)

        def st(name):
            s = r.column(idx[name]).statistics
            return (s.min, s.max) if s is not None and s.has_min_max else None

        sx0, sy0, sx1, sy1 = st("bbox.xmin"), st("bbox.ymin"), st("bbox.xmax"), st("bbox.ymax")
        keep = True
        if None not in (sx0, sy0, sx1, sy1):
            keep = sx0[0] <= x1 and sx1[1] >= x0 and sy0[0] <= y1 and sy1[1] >= y0
        if keep:
            total += sum(r.column(c).total_compressed_size for c in range(r.num_columns))
    return total


def versions():
    """The client versions, one line."""
    import duckdb
    import geopandas
    import pyarrow
    import pyogrio
    import shapely

    return (
        f"GeoPandas {geopandas.__version__} (pyogrio {pyogrio.__version__}, GDAL {pyogrio.__gdal_version_string__}), "
        f"DuckDB {duckdb.__version__}, pyarrow {pyarrow.__version__}, shapely {shapely.__version__}, "
        f"Python {sys.version.split()[0]}"
    )


def main():
    if sys.argv[1:] == ["versions"]:
        print(versions())
        return
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    tool, job, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    jobs = {"geopandas": geopandas_job, "duckdb": duckdb_job, "pyarrow": pyarrow_job}
    if tool not in jobs:
        raise SystemExit(f"unknown tool {tool}")
    out(jobs[tool](job, args))


if __name__ == "__main__":
    main()
