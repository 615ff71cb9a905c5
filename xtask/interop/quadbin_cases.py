"""Seeded Quadbin cases computed with quadbin-py (PyPI `quadbin`), for
`cargo xtask interop` (xtask/src/interop_quadbin.rs) to compare with
`geoquet quadbin ... --json`.

Usage: python quadbin_cases.py SEED  -> one JSON document on stdout.
Integers are exact JSON integers (cells are below 2^63).
"""

import json
import random
import sys

import quadbin

FOOTER = 0xFFFFFFFFFFFFF
HEADER = 0x4000000000000000


def spec_valid_cell(index):
    """The CARTO Analytics Toolbox rule (QUADBIN_ISVALID), mask FOOTER >> 2z."""
    if index < 0 or index >> 63:
        return False
    if index & HEADER != HEADER:
        return False
    mode = (index >> 59) & 7
    z = (index >> 52) & 0x1F
    unused = FOOTER >> (2 * z) if z <= 26 else 0
    return mode == 1 and (index >> 57) & 3 == 0 and z <= 26 and index & unused == unused


def random_tile(rng, zmin=0, zmax=26):
    z = rng.randint(zmin, zmax)
    n = 1 << z
    return rng.randrange(n), rng.randrange(n), z


def main():
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 20261121)
    out = {"versions": {"quadbin": getattr(quadbin, "__version__", "?"), "python": sys.version.split()[0]}}

    tiles = [random_tile(rng) for _ in range(60)] + [(0, 0, 0), (0, 0, 26), ((1 << 26) - 1, (1 << 26) - 1, 26)]
    out["from_tile"] = [{"z": z, "x": x, "y": y, "cell": quadbin.tile_to_cell((x, y, z))} for x, y, z in tiles]

    points = [(rng.uniform(-180, 180), rng.uniform(-85, 85), rng.randint(0, 26)) for _ in range(80)]
    points += [(rng.uniform(-250, 250), rng.uniform(-100, 100), rng.randint(0, 26)) for _ in range(20)]
    out["from_lonlat"] = [
        {"lon": lon, "lat": lat, "res": res, "cell": quadbin.point_to_cell(lon, lat, res)} for lon, lat, res in points
    ]

    cells = [quadbin.tile_to_cell((x, y, z)) for x, y, z in tiles]
    out["info"] = [
        {
            "cell": c,
            "tile": list(quadbin.cell_to_tile(c)),
            "resolution": quadbin.get_resolution(c),
            "bbox": list(quadbin.cell_to_bounding_box(c)),
            "center": list(quadbin.cell_to_point(c)),
            "hex": quadbin.index_to_string(c),
        }
        for c in cells
    ]

    out["parent"] = []
    for c in cells:
        z = quadbin.get_resolution(c)
        r = rng.randint(0, z)
        out["parent"].append({"cell": c, "res": r, "parent": quadbin.cell_to_parent(c, r)})

    out["children"] = []
    for c in cells[:25]:
        z = quadbin.get_resolution(c)
        if z >= 25:
            continue
        r = z + rng.randint(1, 2)
        out["children"].append({"cell": c, "res": r, "children": quadbin.cell_to_children(c, r)})

    # k-rings: interior origins and origins on the grid edges (where quadbin-py raises).
    out["kring"] = []
    origins = [random_tile(rng, 3, 26) for _ in range(15)]
    origins += [(0, rng.randrange(8), 3), (7, 3, 3), (rng.randrange(16), 0, 4), (0, 0, 2), (0, 0, 0)]
    for x, y, z in origins:
        c = quadbin.tile_to_cell((x, y, z))
        k = rng.randint(0, 3)
        case = {"cell": c, "k": k}
        try:
            ring = quadbin.k_ring_distances(c, k)
            case["cells"] = [r["index"] for r in ring]
            case["distances"] = [r["distance"] for r in ring]
        except Exception as e:  # quadbin-py 0.2.2 raises TypeError at grid edges
            case["error"] = type(e).__name__
        out["kring"].append(case)

    out["sibling"] = []
    sib_tiles = [random_tile(rng, 1, 26) for _ in range(30)] + [(0, 1, 2), (3, 1, 2), (1, 0, 2), (1, 3, 2)]
    for x, y, z in sib_tiles:
        c = quadbin.tile_to_cell((x, y, z))
        for d in ("up", "down", "left", "right"):
            n = 1 << z
            at_x_edge = (d == "left" and x == 0) or (d == "right" and x == n - 1)
            out["sibling"].append({"cell": c, "direction": d, "sibling": quadbin.cell_sibling(c, d), "at_x_edge": at_x_edge})

    out["validity"] = []
    for i in range(300):
        kind = i % 4
        if kind == 0:
            v = rng.getrandbits(64)
        elif kind == 1:
            x, y, z = random_tile(rng)
            v = quadbin.tile_to_cell((x, y, z)) ^ (1 << rng.randrange(64))
        elif kind == 2:
            # The quadbin-py quirk: a bit cleared between its 4z mask and the toolbox's 2z mask.
            x, y, z = random_tile(rng, 13, 25)
            lo, hi = 52 - 4 * z if 52 - 4 * z > 0 else 0, 52 - 2 * z
            v = quadbin.tile_to_cell((x, y, z)) & ~(1 << rng.randrange(lo, hi))
        else:
            x, y, z = random_tile(rng)
            v = quadbin.tile_to_cell((x, y, z))
        out["validity"].append({"index": v, "py_valid": bool(quadbin.is_valid_cell(v)), "spec_valid": spec_valid_cell(v)})

    # Polyfill: quadbin-py's geometry_to_cells is a tile cover (intersects) of boxes in general position.
    out["polyfill"] = []
    for _ in range(12):
        res = rng.randint(2, 9)
        w = rng.uniform(-170, 150)
        s = rng.uniform(-70, 60)
        e = w + rng.uniform(0.5, 20)
        n = s + rng.uniform(0.5, 15)
        geom = {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}
        cells = sorted(set(quadbin.geometry_to_cells(json.dumps(geom), res)))
        out["polyfill"].append({"bbox": [w, s, e, n], "res": res, "cells": cells})

    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
