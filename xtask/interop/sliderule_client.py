"""The `sliderule` Python client (4.20 line, offline) on files and streams we wrote.

Usage: sliderule_client.py MANIFEST.json
Prints one JSON document: per file what `sliderule.procoutputfile` returned
(type, index, columns, attrs, CRS) and whether any secret appears in its bytes;
for the stream, what the client's own native decoder rebuilt.
"""
import json
import logging
import os
import sys

import pyarrow.parquet as pq
import sliderule
from sliderule import sliderule as sr
from sliderule.session import Session

DEFINITIONS = {
    "arrowrec.meta": {"__datasize": 136, "filename": {"type": "STRING", "offset": 0, "elements": 128, "flags": "LE"}, "size": {"type": "INT64", "offset": 1024, "elements": 1, "flags": "LE"}},
    "arrowrec.data": {"__datasize": 128, "filename": {"type": "STRING", "offset": 0, "elements": 128, "flags": "LE"}, "data": {"type": "UINT8", "offset": 1024, "elements": 0, "flags": "LE"}},
    "arrowrec.eof": {"__datasize": 136, "filename": {"type": "STRING", "offset": 0, "elements": 128, "flags": "LE"}, "checksum": {"type": "UINT64", "offset": 1024, "elements": 1, "flags": "LE"}},
    "arrowrec.remote": {"__datasize": 520, "url": {"type": "STRING", "offset": 0, "elements": 512, "flags": "LE"}, "size": {"type": "INT64", "offset": 4096, "elements": 1, "flags": "LE"}},
}


def open_file(entry, secrets):
    parm = {"output": {"path": entry["path"], "format": entry["format"], "open_on_complete": True}}
    if "as_geo" in entry:
        parm["output"]["as_geo"] = entry["as_geo"]
    df = sr.procoutputfile(parm, [])
    data = open(entry["path"], "rb").read()
    meta = pq.read_metadata(entry["path"]).metadata or {}
    out = {
        "type": type(df).__name__,
        "rows": len(df),
        "index": df.index.name,
        "index_dtype": str(df.index.dtype),
        "columns": [str(c) for c in df.columns],
        "attrs": sorted(df.attrs.keys()),
        "recordinfo": df.attrs.get("recordinfo"),
        "server_version": (df.attrs.get("sliderule") or {}).get("server", {}).get("version"),
        "credentials_echo": (df.attrs.get("sliderule") or {}).get("server", {}).get("rqst", {}).get("parms", {}).get("output", {}).get("credentials"),
        "crs": str(getattr(df, "crs", None)),
        "footer_keys": sorted(k.decode() for k in meta.keys()),
        "secret_found": any(s.encode() in data for s in secrets),
    }
    if out["type"] == "GeoDataFrame":
        out["first_point"] = [df.geometry.iloc[0].x, df.geometry.iloc[0].y]
    return out


def decode_stream(stream):
    framed = open(stream["framed"], "rb").read()
    session = object.__new__(Session)
    session.decode_aux = True
    session.recdef_table = dict(DEFINITIONS)
    session.arrow_file_table = {}
    session.logger = logging.getLogger("sliderule-interop")
    checksums = []
    arrowrec = Session._Session__arrowrec

    def eof(rec, s):
        checksums.append(rec["checksum"])
        return arrowrec(rec, s)

    callbacks = {"arrowrec.meta": arrowrec, "arrowrec.data": arrowrec, "arrowrec.eof": eof}
    chunk = stream["chunk"]
    chunks = [framed[i:i + chunk] for i in range(0, len(framed), chunk)]
    os.chdir(stream["dir"])
    session._Session__parse_native(chunks, callbacks)
    rebuilt = open(stream["name"], "rb").read()
    return {
        "rebuilt_bytes": len(rebuilt),
        "identical": rebuilt == open(stream["expected"], "rb").read(),
        "checksums": checksums,
        "byte_sum": sum(rebuilt) % (1 << 64),
        "open_files_left": len(session.arrow_file_table),
    }


def main() -> None:
    manifest = json.load(open(sys.argv[1]))
    import importlib.metadata
    result = {"versions": {"sliderule": importlib.metadata.version("sliderule")}}
    result["files"] = {e["name"]: open_file(e, manifest["secrets"]) for e in manifest["files"]}
    result["stream"] = decode_stream(manifest["stream"])
    print(json.dumps(result))


if __name__ == "__main__":
    main()
