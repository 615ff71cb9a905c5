"""Seeded GeoTIFF inputs for `cargo xtask bench raquet` (needs GDAL's Python bindings
and numpy, i.e. target/venv-raquet).

    python raquet_gen.py OUTDIR [--scale S]

Writes (if absent):
  dem_uint16_3857.tif   4096·S × 4096·S uint16, EPSG:3857 on the pixel-zoom-16 grid,
                        tiled 256, DEFLATE; smooth terrain + noise; nodata 0 in a corner
  temp_float32_utm.tif  3000·S × 3000·S float32, EPSG:32630 (UTM 30N), 30 m pixels,
                        tiled 256, DEFLATE; nodata NaN in a diagonal band
Prints {"files": [...]} as JSON.
"""

import json
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()


def write(path, arr, epsg, gt, nodata):
    drv = gdal.GetDriverByName("GTiff")
    final, path = path, path.with_name(path.stem + ".partial.tif")
    h, w = arr.shape
    dtype = {np.uint16: gdal.GDT_UInt16, np.float32: gdal.GDT_Float32}[arr.dtype.type]
    ds = drv.Create(str(path), w, h, 1, dtype, ["TILED=YES", "COMPRESS=DEFLATE", "BLOCKXSIZE=256", "BLOCKYSIZE=256"])
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    ds.SetProjection(srs.ExportToWkt())
    ds.SetGeoTransform(gt)
    b = ds.GetRasterBand(1)
    b.SetNoDataValue(nodata)
    b.WriteRaster(0, 0, w, h, arr.tobytes())
    ds = None
    path.rename(final)  # never leave a half-written input behind


def main():
    out = Path(sys.argv[1])
    scale = float(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[2] == "--scale" else 1.0
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(42)
    files = []

    n = int(4096 * scale)
    p = out / f"dem_uint16_3857_{n}.tif"
    if not p.exists():
        y, x = np.mgrid[0:n, 0:n].astype(np.float32) / n
        dem = 1000 + 800 * np.sin(6 * x) * np.cos(4 * y) + rng.normal(0, 20, (n, n))
        dem = np.clip(dem, 1, 65535).astype(np.uint16)
        dem[: n // 8, : n // 8] = 0
        # NW corner of tile 8/130/86, pixel 611.49622628141 m (pixel zoom 16).
        gt = (313086.06785608083, 611.4962262814101, 0, 6574807.42497772, 0, -611.4962262814101)
        write(p, dem, 3857, gt, 0)
    files.append(str(p))

    m = int(3000 * scale)
    p = out / f"temp_float32_utm_{m}.tif"
    if not p.exists():
        y, x = np.mgrid[0:m, 0:m].astype(np.float32) / m
        t = (15 + 10 * np.sin(5 * x + 3 * y) + rng.normal(0, 0.5, (m, m))).astype(np.float32)
        t[np.abs(x - y) < 0.02] = np.nan
        gt = (400000.0, 30.0, 0, 4500000.0, 0, -30.0)
        write(p, t, 32630, gt, float("nan"))
    files.append(str(p))
    print(json.dumps({"files": files}))


if __name__ == "__main__":
    main()
