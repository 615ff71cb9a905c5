"""Python stac-geoparquet 0.8.3 for `cargo xtask bench stac`, the way the
reference measured it (section 8): two-pass NDJSON inference to write,
`stac_table_to_ndjson(pq.read_table(...))` to read.

usage: python stac_py.py write IN.ndjson OUT.parquet
       python stac_py.py read IN.parquet OUT.ndjson
"""

import os
import sys

import pyarrow.parquet as pq
import stac_geoparquet.arrow as sga


def main():
    mode, src, dst = sys.argv[1], sys.argv[2], sys.argv[3]
    if mode == "write":
        sga.parse_stac_ndjson_to_parquet(src, dst)
    elif mode == "read":
        if os.path.exists(dst):
            os.remove(dst)
        sga.stac_table_to_ndjson(pq.read_table(src), dst)
    else:
        sys.exit("usage: stac_py.py write|read IN OUT")


if __name__ == "__main__":
    main()
