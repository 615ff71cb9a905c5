"""Differential check of GeoTIFF reading against GDAL (cargo xtask interop,
interop_raquet.rs): seeded rasters are written by GDAL in every layout it offers
(compressions, predictors, tiles and strips of odd sizes, band/pixel interleaving,
BigTIFF, JPEG YCbCr), each is converted with `geoquet raquet from-geotiff`, and the
pixel values GDAL reads at sampled pixel centres are compared with `geoquet raquet
value` there (nearest resampling at the finer zoom: the same source pixel).

An integer source without nodata and without alpha gets an added alpha band (fill mask,
docs/src/raquet.md "Fill"): it is found in the RaQuet metadata (`raquet info --json`:
the last band with `colorinterp: alpha`, described "fill mask added by geoquet …"), left
out of the comparison with GDAL's bands, and must be 255 (127 for int8) at every
compared source pixel; that it is there exactly when the source calls for one is checked
too.

Runs with the system python that has GDAL's bindings (Debian python3-gdal), not the venv.

Usage: raquet_gdal_layouts.py GEOQUET OUTDIR [EXTRA.tif ...]
Prints one JSON document: {"versions": {...}, "checks": [{"name", "client", "ok", "note"}]}.
"""

from __future__ import annotations

import json
import random
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, gdal_array, osr

gdal.UseExceptions()

W, H = 301, 203
POINTS = 60
CLIENT = f"GDAL {gdal.__version__} (gdal_translate -co …, read by GDAL)"

TYPES = {
    "Byte": (gdal.GDT_Byte, "B"),
    "UInt16": (gdal.GDT_UInt16, "H"),
    "Int16": (gdal.GDT_Int16, "h"),
    "Int32": (gdal.GDT_Int32, "i"),
    "Float32": (gdal.GDT_Float32, "f"),
    "Float64": (gdal.GDT_Float64, "d"),
}


def source(path: Path, dtype: str, bands: int, epsg: int, seed: int) -> Path:
    """A seeded raster in GDAL's default layout."""
    rnd = random.Random(seed)
    gdt, fmt = TYPES[dtype]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), W, H, bands, gdt)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    if epsg == 4326:
        ds.SetGeoTransform([10.0, 0.0001, 0, 45.0, 0, -0.0001])
    else:
        ds.SetGeoTransform([500000.0, 10.0, 0, 5000000.0, 0, -10.0])
    for b in range(bands):
        vals = []
        for r in range(H):
            for c in range(W):
                v = c * 3 + r * 5 + b * 40 + rnd.randrange(0, 20)
                if dtype == "Byte":
                    v %= 256
                elif dtype.startswith("Float"):
                    v = v * 0.37 - 50
                elif dtype == "Int16":
                    v = v * 7 - 1000
                else:
                    v *= 11
                vals.append(v)
        data = struct.pack("<%d%s" % (len(vals), fmt), *vals)
        ds.GetRasterBand(b + 1).WriteRaster(0, 0, W, H, data, buf_type=gdt)
    ds = None
    return path


def sample_points(ds, n: int, seed: int):
    """(col, row, lon, lat) of `n` seeded pixel centres away from the edges."""
    gt = ds.GetGeoTransform()
    srs = osr.SpatialReference()
    srs.ImportFromWkt(ds.GetProjection())
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    tr = osr.CoordinateTransformation(srs, wgs)
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        c = rnd.randrange(1, ds.RasterXSize - 1)
        r = rnd.randrange(1, ds.RasterYSize - 1)
        x = gt[0] + (c + 0.5) * gt[1] + (r + 0.5) * gt[2]
        y = gt[3] + (c + 0.5) * gt[4] + (r + 0.5) * gt[5]
        lon, lat, _ = tr.TransformPoint(x, y)
        out.append((c, r, lon, lat))
    return out


ADDED_ALPHA = "fill mask added by geoquet"


def raquet_bands(geoquet: str, parquet: Path):
    """(source band names, added alpha band or None) from the RaQuet metadata.

    The alpha band is the last band whose `colorinterp` is `alpha` in a file of more than
    one band (`raquet::Metadata::alpha_band`); it is the one the converter added when its
    description says so. An added alpha must be the last band, `band_N+1`."""
    out = subprocess.run([geoquet, "raquet", "info", str(parquet), "--json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise ValueError(f"raquet info exit {out.returncode}: {out.stderr.strip()}")
    bands = json.loads(out.stdout)["metadata"]["bands"]
    alpha = None
    if len(bands) > 1:
        idx = [i for i, b in enumerate(bands) if b.get("colorinterp") == "alpha"]
        if idx and (bands[idx[-1]].get("description") or "").startswith(ADDED_ALPHA):
            alpha = bands[idx[-1]]
    if alpha is not None:
        n = len(bands) - 1
        if bands[-1] is not alpha or alpha["name"] != f"band_{n + 1}":
            raise ValueError(f"added alpha {alpha['name']} is not the last band band_{n + 1}")
    names = [b["name"] for b in bands if b is not alpha]
    return names, alpha


def expects_added_alpha(ds) -> bool:
    """The converter adds an alpha band to integer sources without alpha and without a
    nodata value the type can hold (docs/src/raquet.md, "Fill")."""
    for b in range(ds.RasterCount):
        band = ds.GetRasterBand(b + 1)
        if band.GetColorInterpretation() == gdal.GCI_AlphaBand:
            return False
        np_type = np.dtype(gdal_array.GDALTypeCodeToNumericTypeCode(band.DataType))
        if not np.issubdtype(np_type, np.integer):
            return False
        nd = band.GetNoDataValue()
        if nd is not None and float(nd).is_integer():
            info = np.iinfo(np_type)
            if info.min <= nd <= info.max:
                return False
    return True


def compare(geoquet: str, tif: Path, parquet: Path, tolerance: float):
    """(mismatches, points, largest difference, first mismatch, alpha note) of ours
    against GDAL, over the source bands only; an added alpha band must be 255 (127 for
    int8) at every compared pixel, else that pixel is a mismatch too."""
    ds = gdal.Open(str(tif))
    arrays = [ds.GetRasterBand(b + 1).ReadAsArray() for b in range(ds.RasterCount)]
    points = sample_points(ds, POINTS, 7)
    try:
        names, alpha = raquet_bands(geoquet, parquet)
    except ValueError as e:
        return len(points), len(points), 0.0, None, f"metadata: {e}"
    if len(names) != ds.RasterCount:
        return len(points), len(points), 0.0, None, f"{len(names)} source bands in the metadata, GDAL reads {ds.RasterCount}"
    if (alpha is not None) != expects_added_alpha(ds):
        said = "an added alpha band" if alpha is not None else "no added alpha band"
        return len(points), len(points), 0.0, None, f"metadata has {said}, the source calls for the opposite"
    opaque = 127 if alpha is not None and alpha["type"] == "int8" else 255
    bad, worst, first, alpha_ok = 0, 0.0, None, 0
    for c, r, lon, lat in points:
        out = subprocess.run(
            [geoquet, "raquet", "value", str(parquet), repr(lon), repr(lat), "--json"],
            capture_output=True,
            text=True,
        )
        doc = json.loads(out.stdout) if out.stdout.strip() else {}
        values = doc.get("values") or {}
        vals = [values.get(n) for n in names]
        want = [float(a[r][c]) for a in arrays]
        if alpha is not None:
            a_val = values.get(alpha["name"])
            if a_val is None or float(a_val) != opaque:
                bad += 1
                first = first or (c, r, vals + [f"{alpha['name']}={a_val}"], want)
                continue
            alpha_ok += 1
        if any(v is None for v in vals):
            bad += 1
            first = first or (c, r, vals, want)
            continue
        diff = max(abs(float(v) - w) for v, w in zip(vals, want))
        worst = max(worst, diff)
        if diff > tolerance:
            bad += 1
            first = first or (c, r, vals, want)
    anote = f"added alpha {alpha['name']} = {opaque} at {alpha_ok}/{len(points)}" if alpha is not None else "no added alpha"
    return bad, len(points), worst, first, anote


def convert(geoquet: str, tif: Path, parquet: Path):
    return subprocess.run(
        [geoquet, "raquet", "from-geotiff", "-q", str(tif), str(parquet), "--zoom-strategy", "upper"],
        capture_output=True,
        text=True,
    )


def main() -> None:
    geoquet, out = sys.argv[1], Path(sys.argv[2])
    extra = [Path(p) for p in sys.argv[3:]]
    out.mkdir(parents=True, exist_ok=True)
    srcs = {
        "u8x3": source(out / "src_u8x3.tif", "Byte", 3, 32633, 1),
        "u8x4": source(out / "src_u8x4.tif", "Byte", 4, 32633, 2),
        "u16": source(out / "src_u16.tif", "UInt16", 1, 4326, 3),
        "i16x2": source(out / "src_i16x2.tif", "Int16", 2, 32633, 4),
        "i32": source(out / "src_i32.tif", "Int32", 1, 4326, 5),
        "f32": source(out / "src_f32.tif", "Float32", 1, 4326, 6),
        "f64x2": source(out / "src_f64x2.tif", "Float64", 2, 32633, 7),
    }
    # (name, source, creation options, tolerance): lossless layouts must match exactly;
    # JPEG differs by the decoder's rounding (zune-jpeg vs libjpeg).
    layouts = []
    for key in srcs:
        floating = key.startswith("f")
        pred = "3" if floating else "2"
        layouts += [
            (f"{key} uncompressed strips", key, [], 0),
            (f"{key} ZSTD", key, ["COMPRESS=ZSTD"], 0),
            (f"{key} LZW predictor {pred}", key, ["COMPRESS=LZW", f"PREDICTOR={pred}"], 0),
            (f"{key} deflate predictor {pred}, 7-row strips", key, ["COMPRESS=DEFLATE", f"PREDICTOR={pred}", "BLOCKYSIZE=7"], 0),
            (f"{key} ZSTD predictor {pred}, 48x80 tiles", key, ["COMPRESS=ZSTD", f"PREDICTOR={pred}", "TILED=YES", "BLOCKXSIZE=48", "BLOCKYSIZE=80"], 0),
            (f"{key} PackBits", key, ["COMPRESS=PACKBITS"], 0),
            (f"{key} BigTIFF deflate tiles", key, ["BIGTIFF=YES", "COMPRESS=DEFLATE", "TILED=YES", "BLOCKXSIZE=32", "BLOCKYSIZE=32"], 0),
            (f"{key} one strip", key, ["BLOCKYSIZE=%d" % H], 0),
        ]
        if key in ("u8x3", "u8x4", "i16x2", "f64x2"):
            layouts += [
                (f"{key} band-interleaved LZW tiles", key, ["INTERLEAVE=BAND", "COMPRESS=LZW", "TILED=YES"], 0),
                (f"{key} band-interleaved strips", key, ["INTERLEAVE=BAND", "BLOCKYSIZE=5"], 0),
            ]
    layouts += [
        ("u8x3 JPEG", "u8x3", ["COMPRESS=JPEG"], 4),
        ("u8x3 JPEG YCbCr", "u8x3", ["COMPRESS=JPEG", "PHOTOMETRIC=YCBCR"], 6),
        ("u8x3 JPEG YCbCr tiles", "u8x3", ["COMPRESS=JPEG", "PHOTOMETRIC=YCBCR", "TILED=YES"], 6),
        ("u8x3 WebP lossless", "u8x3", ["COMPRESS=WEBP", "WEBP_LOSSLESS=YES"], 0),
        ("u8x4 WebP lossless tiles", "u8x4", ["COMPRESS=WEBP", "WEBP_LOSSLESS=YES", "TILED=YES"], 0),
        ("u8x4 RGB photometric, unspecified 4th sample", "u8x4", ["PHOTOMETRIC=RGB", "ALPHA=UNSPECIFIED"], 0),
    ]
    checks = []
    for name, key, co, tol in layouts:
        tif = out / (name.replace(" ", "_").replace(",", "") + ".tif")
        pq = tif.with_suffix(".parquet")
        try:
            gdal.Translate(str(tif), str(srcs[key]), creationOptions=co)
        except RuntimeError as e:
            checks.append({"name": f"GeoTIFF {name}", "client": CLIENT, "ok": None, "note": f"GDAL cannot write it: {e}"})
            continue
        res = convert(geoquet, tif, pq)
        if res.returncode != 0:
            checks.append({"name": f"GeoTIFF {name}", "client": CLIENT, "ok": False, "note": res.stderr.strip()})
            continue
        bad, n, worst, first, anote = compare(geoquet, tif, pq, tol)
        note = f"{n - bad}/{n} points equal" + (f" within {tol} (largest difference {worst:g})" if tol else "")
        note += f" ({anote})"
        if first:
            note += f"; first mismatch pixel ({first[0]}, {first[1]}): ours {first[2]}, GDAL {first[3]}"
        checks.append({"name": f"GeoTIFF {name}", "client": CLIENT, "ok": bad == 0, "note": note})
    # LERC has no decoder here: a one-line error naming the codec.
    tif = out / "f32_LERC.tif"
    try:
        gdal.Translate(str(tif), str(srcs["f32"]), creationOptions=["COMPRESS=LERC"])
        res = convert(geoquet, tif, tif.with_suffix(".parquet"))
        err = res.stderr.strip()
        ok = res.returncode != 0 and "LERC" in err and "\n" not in err
        checks.append({"name": "GeoTIFF f32 LERC (not supported)", "client": CLIENT, "ok": ok, "note": f"refused: {err}" if ok else f"exit {res.returncode}: {err}"})
    except RuntimeError as e:
        checks.append({"name": "GeoTIFF f32 LERC (not supported)", "client": CLIENT, "ok": None, "note": f"GDAL cannot write it: {e}"})
    # Files from elsewhere (the NAIP tile of issue 14), as they are.
    for tif in extra:
        pq = out / (tif.stem + ".parquet")
        res = convert(geoquet, tif, pq)
        if res.returncode != 0:
            checks.append({"name": f"GeoTIFF {tif.name}", "client": CLIENT, "ok": False, "note": res.stderr.strip()})
            continue
        bad, n, _, first, anote = compare(geoquet, tif, pq, 0)
        note = f"{n - bad}/{n} points equal ({anote})" + (f"; first mismatch {first}" if first else "")
        checks.append({"name": f"GeoTIFF {tif.name}", "client": CLIENT, "ok": bad == 0, "note": note})
    print(json.dumps({"versions": {"gdal": gdal.__version__}, "checks": checks}))


if __name__ == "__main__":
    main()
