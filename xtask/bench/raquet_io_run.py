"""Runs raquet-io's CLI (`raquet-io ...`) on GDAL < 3.7, whose Python bindings lack
`gdal.GDT_Int8` (added in 3.7; raquet-io 0.9.0 names it unconditionally). Used by
`cargo xtask bench raquet` only."""

import sys

from osgeo import gdal

if not hasattr(gdal, "GDT_Int8"):
    gdal.GDT_Int8 = 14  # GDAL's enum value; never produced by GDAL 3.6 datasets.

from raquet.cli import main  # noqa: E402

sys.argv[0] = "raquet-io"
sys.exit(main())
