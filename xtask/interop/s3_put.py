"""Create a bucket on a local S3 endpoint (moto) and upload one file.

Usage: s3_put.py ENDPOINT BUCKET KEY FILE
"""
import json
import sys

import boto3


def main() -> None:
    endpoint, bucket, key, path = sys.argv[1:5]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="interop",
        aws_secret_access_key="interop",
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=bucket)
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
    print(json.dumps({"uploaded": f"s3://{bucket}/{key}"}))


if __name__ == "__main__":
    main()
