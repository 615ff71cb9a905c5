"""Serve gcp-storage-emulator (in memory) on 127.0.0.1:PORT with one object.

Usage: gcs_emulator.py PORT BUCKET NAME FILE [--xml-headers]

Creates BUCKET, uploads FILE as NAME through the emulator's JSON upload API,
prints one JSON line ({"ready": "gs://BUCKET/NAME", "version": ...}) and serves
until killed.

object_store's GCS client reads through the XML API: HEAD on /BUCKET/NAME for
the size, then ranged GETs, and it requires `ETag` and `Last-Modified` on
both (as storage.googleapis.com sends them). gcp-storage-emulator answers HEAD
with 501 and sends neither header. With --xml-headers this script adds exactly
those two things (HEAD answered as GET without a body; ETag from the object's
md5Hash, Last-Modified from its `updated` time), nothing else: the bytes and
the ranges still come from the emulator.
"""
import email.utils
import json
import sys
import time
import urllib.parse
import urllib.request
from datetime import datetime
from http import HTTPStatus
from importlib.metadata import version

from gcp_storage_emulator import server as gserver
from gcp_storage_emulator.handlers import objects


def add_xml_headers() -> None:
    download = objects.download

    def download_with_headers(request, response, storage, *args, **kwargs):
        download(request, response, storage, *args, **kwargs)
        if response.status in (HTTPStatus.OK, HTTPStatus.PARTIAL_CONTENT):
            obj = storage.get_file_obj(
                request.params["bucket_name"], request.params["object_id"]
            )
            response["ETag"] = '"{}"'.format(obj["md5Hash"])
            updated = datetime.fromisoformat(obj["updated"].replace("Z", "+00:00"))
            response["Last-Modified"] = email.utils.format_datetime(updated, usegmt=True)

    for _, handlers in gserver.HANDLERS:
        for method, handler in list(handlers.items()):
            if handler is download:
                handlers[method] = download_with_headers
                if method == gserver.GET:
                    handlers["HEAD"] = download_with_headers

    close = gserver.Response.close

    def close_without_body_for_head(self):
        if self._handler.command != "HEAD":
            return close(self)
        content = self._content
        if isinstance(content, str):
            content = content.encode("utf-8")
        self._handler.send_response(self.status.value, self.status.phrase)
        for k, v in self._headers.items():
            self._handler.send_header(k, v)
        self._handler.send_header("Content-Length", str(len(content)))
        self._handler.end_headers()

    gserver.Response.close = close_without_body_for_head
    gserver.RequestHandler.do_HEAD = lambda self: gserver.Router(self).handle("HEAD")


def main() -> None:
    port, bucket, name, path = sys.argv[1:5]
    if "--xml-headers" in sys.argv[5:]:
        add_xml_headers()
    srv = gserver.create_server("127.0.0.1", int(port), in_memory=True, default_bucket=bucket)
    srv.start()
    with open(path, "rb") as f:
        body = f.read()
    url = (
        f"http://127.0.0.1:{port}/upload/storage/v1/b/{bucket}/o"
        f"?uploadType=media&name={urllib.parse.quote(name, safe='')}"
    )
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/octet-stream"}
    )
    with urllib.request.urlopen(req) as r:
        uploaded = json.load(r)
    assert int(uploaded["size"]) == len(body), uploaded
    print(
        json.dumps(
            {"ready": f"gs://{bucket}/{name}", "version": version("gcp-storage-emulator")}
        ),
        flush=True,
    )
    try:
        while True:
            time.sleep(1)
    finally:
        srv.stop()


if __name__ == "__main__":
    main()
