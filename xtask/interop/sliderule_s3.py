"""`geoquet sliderule` uploads against a local moto S3 server with IAM enforced.

Usage: sliderule_s3.py GEOQUET ATL06_NDJSON WORKDIR
Prints {"cases": [{"name", "ok", "note"|"why"}]}.

Setup: moto's threaded server on a free loopback port; a bucket, an admin user
(for reading back) and a role whose only permission is s3:PutObject on the
bucket's keys; then IAM checking is switched on (POST /moto-api/reset-auth)
and STS hands out temporary credentials (key id, secret, session token) for
that role. Every upload below uses those temporary credentials, so a success
proves the uploader needs nothing beyond s3:PutObject (moto authorises all
multipart steps but abort by that action).
"""
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

BUCKET = "exports"
cases = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def case(name, ok, note="", why=""):
    cases.append({"name": name, "ok": bool(ok), "note": note, "why": why or note})


def client(service, endpoint, key, secret, token=None):
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"max_attempts": 1}),
    )


def spec(path, endpoint, creds, fmt="geoparquet"):
    c = {"AccessKeyId": creds[0], "SecretAccessKey": creds[1]}
    if creds[2] is not None:
        c["Token"] = creds[2]
        c["Expiration"] = "2030-01-01T00:00:00Z"
    return json.dumps({"path": path, "format": fmt, "endpoint": endpoint, "credentials": c})


def run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)


def exists(admin, key):
    try:
        admin.head_object(Bucket=BUCKET, Key=key)
        return True
    except Exception:
        return False


def main() -> None:
    geoquet, ndjson, workdir = sys.argv[1:4]
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        boot = client("s3", endpoint, "boot", "boot")
        boot.create_bucket(Bucket=BUCKET)
        iam = client("iam", endpoint, "boot", "boot")
        iam.create_user(UserName="admin")
        iam.put_user_policy(UserName="admin", PolicyName="all", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        ak = iam.create_access_key(UserName="admin")["AccessKey"]
        role = iam.create_role(RoleName="putonly", AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}))
        iam.put_role_policy(RoleName="putonly", PolicyName="put", PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
        req = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST",
                                     headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(req).read()
        admin = client("s3", endpoint, ak["AccessKeyId"], ak["SecretAccessKey"])
        sts = client("sts", endpoint, ak["AccessKeyId"], ak["SecretAccessKey"])
        t = sts.assume_role(RoleArn=role["Role"]["Arn"], RoleSessionName="interop")["Credentials"]
        temp = (t["AccessKeyId"], t["SecretAccessKey"], t["SessionToken"])
        secrets = [s.encode() for s in temp]

        # 1. Export + upload with the PutObject-only temporary credentials.
        key = "dir/atl06.parquet"
        r = run([geoquet, "sliderule", "export", "--record", "atl06", "--input", ndjson,
                 "--output-json", spec(f"s3://{BUCKET}/{key}", endpoint, temp), "--json"])
        if r.returncode != 0:
            case("export uploaded with PutObject-only temporary credentials", False, why=r.stderr.strip())
        else:
            body = admin.get_object(Bucket=BUCKET, Key=key)["Body"].read()
            out = json.loads(r.stdout)
            leaked = any(s in body for s in secrets) or any(s.decode() in r.stdout + r.stderr for s in secrets)
            ok = body[:4] == b"PAR1" and len(body) == out["bytes"] and not leaked
            case("export uploaded with PutObject-only temporary credentials", ok,
                 note=f"{len(body)} bytes, alerts: {len(out['alerts'])}",
                 why=f"object {len(body)} bytes, reported {out['bytes']}, secret leaked: {leaked}")

        # 2. The role really is PutObject-only: GET, HEAD, LIST, DELETE are denied.
        limited = client("s3", endpoint, *temp)
        denied = []
        for name, call in [("GET", lambda: limited.get_object(Bucket=BUCKET, Key=key)),
                           ("HEAD", lambda: limited.head_object(Bucket=BUCKET, Key=key)),
                           ("LIST", lambda: limited.list_objects_v2(Bucket=BUCKET)),
                           ("DELETE", lambda: limited.delete_object(Bucket=BUCKET, Key=key))]:
            try:
                call()
            except Exception:
                denied.append(name)
        case("the role denies GET/HEAD/LIST/DELETE (so the upload used only PutObject)",
             denied == ["GET", "HEAD", "LIST", "DELETE"], note="all four denied", why=f"denied only {denied}")

        # 3. Wrong secret: rejected, clear error, no object, no secret in the message.
        key3 = "wrong-secret.parquet"
        r = run([geoquet, "sliderule", "export", "--record", "atl06", "--input", ndjson,
                 "--output-json", spec(f"s3://{BUCKET}/{key3}", endpoint, (temp[0], "not-the-secret", temp[2]))])
        ok = r.returncode == 2 and "upload to S3 failed" in r.stderr and not exists(admin, key3) \
            and "not-the-secret" not in r.stderr and temp[2] not in r.stderr
        case("wrong secret: rejected with a clear error, nothing uploaded", ok,
             note=r.stderr.strip()[:160], why=f"exit {r.returncode}: {r.stderr.strip()[:300]}")

        # 4. Missing session token: refused.
        key4 = "no-token.parquet"
        r = run([geoquet, "sliderule", "export", "--record", "atl06", "--input", ndjson,
                 "--output-json", spec(f"s3://{BUCKET}/{key4}", endpoint, (temp[0], temp[1], None))])
        case("temporary credentials without the session token: refused", r.returncode == 2 and not exists(admin, key4),
             note="exit 2, no object", why=f"exit {r.returncode}: {r.stderr.strip()[:300]}")

        # 5. 200 MB upload (multipart) with the PutObject-only role.
        big = os.path.join(workdir, "big.bin")
        with open(big, "wb") as f:
            f.write(os.urandom(200 * 1024 * 1024))
        digest = hashlib.sha256(open(big, "rb").read()).hexdigest()
        key5 = "big/200mb.bin"
        start = time.time()
        r = run([geoquet, "sliderule", "upload", big, "--output-json", spec(f"s3://{BUCKET}/{key5}", endpoint, temp), "--json"])
        took = time.time() - start
        if r.returncode != 0:
            case("200 MB multipart upload with the PutObject-only role", False, why=r.stderr.strip()[:300])
        else:
            body = admin.get_object(Bucket=BUCKET, Key=key5)["Body"].read()
            ok = hashlib.sha256(body).hexdigest() == digest
            case("200 MB multipart upload with the PutObject-only role", ok,
                 note=f"{len(body)} bytes, sha256 equal, {took:.1f} s", why="content differs")

        # 6. Server killed mid-upload: error, no object. A second server on
        # another port shares moto's in-process state; it is stopped while
        # the upload runs, and the first one then shows no object.
        port2 = free_port()
        second = ThreadedMotoServer(ip_address="127.0.0.1", port=port2, verbose=False)
        second.start()
        key6 = "killed/200mb.bin"
        proc = subprocess.Popen([geoquet, "sliderule", "upload", big, "--part-mib", "5", "--output-json",
                                 spec(f"s3://{BUCKET}/{key6}", f"http://127.0.0.1:{port2}", temp)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        still_running = proc.poll() is None
        second.stop()
        out, err = proc.communicate(timeout=600)
        present = exists(admin, key6)
        ok = still_running and proc.returncode == 2 and not present and "upload to S3 failed" in err
        case("server stopped mid-upload: error, no object", ok,
             note=f"exit {proc.returncode}: {err.strip()[:120]}",
             why=f"running when stopped: {still_running}, exit {proc.returncode}, object present: {present}, {err.strip()[:200]}")
        os.remove(big)
    finally:
        server.stop()
    print(json.dumps({"cases": cases}))


if __name__ == "__main__":
    main()
