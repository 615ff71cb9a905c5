"""Create a container on a local Azurite blob endpoint and upload one file,
with Microsoft's own client (azure-storage-blob) and the emulator's
well-known account (devstoreaccount1, a published development key).

Usage: az_put.py BLOB_ENDPOINT CONTAINER NAME FILE
"""
import json
import sys

from azure.storage.blob import BlobServiceClient, __version__

# Azurite's documented development account; not a secret.
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def main() -> None:
    endpoint, container, name, path = sys.argv[1:5]
    conn = (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
        f"BlobEndpoint={endpoint}/{ACCOUNT};"
    )
    service = BlobServiceClient.from_connection_string(conn)
    service.create_container(container)
    with open(path, "rb") as f:
        service.get_blob_client(container, name).upload_blob(f, overwrite=True)
    print(json.dumps({"uploaded": f"az://{container}/{name}", "client": __version__}))


if __name__ == "__main__":
    main()
