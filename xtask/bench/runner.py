"""Runs one command as a child process and reports its wall time and peak RSS.

    python runner.py [--stdout FILE] -- COMMAND [ARGS...]

Prints one JSON object: {"wall_s", "maxrss_mb", "exit", "stdout", "stderr"}.
Wall time is measured around spawn and wait; peak RSS is the child's
`ru_maxrss` from os.wait4 (kilobytes on Linux), which covers the child and
any descendants it waited for. The child's standard output and error go to
temporary files (their last 4 kB are returned), so piping costs nothing.
"""

import json
import os
import sys
import tempfile
import time


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print("usage: runner.py -- COMMAND [ARGS...]", file=sys.stderr)
        sys.exit(2)
    cmd = argv[argv.index("--") + 1 :]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        env = dict(os.environ)
        env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
        start = time.perf_counter()
        pid = os.posix_spawnp(
            cmd[0],
            cmd,
            env,
            file_actions=[
                (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
            ],
        )
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start

        def tail(f):
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 4096))
            return f.read().decode("utf-8", "replace")

        # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
        rss_bytes = usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024)
        doc = {
            "wall_s": wall,
            "maxrss_mb": rss_bytes / (1024 * 1024),
            "user_s": usage.ru_utime,
            "sys_s": usage.ru_stime,
            "exit": os.waitstatus_to_exitcode(status),
            "stdout": tail(out),
            "stderr": tail(err),
        }
    print(json.dumps(doc))


if __name__ == "__main__":
    main()
