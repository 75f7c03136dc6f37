#!/usr/bin/env python3
"""Live numbers of one afl-fuzz instance for ci/fuzz.sh's progress line.

AFL++ rewrites fuzzer_stats only once a minute (plot_data only after the
first minute), but with AFL_STATSD=1 it sends its statistics every second
as StatsD gauges ("fuzzing.execs_per_sec:1234.5|g") to 127.0.0.1:
AFL_STATSD_PORT. This listens on a free UDP port of 127.0.0.1, prints that
port on the first line of standard output, and keeps the latest value of
every gauge in OUT as "name value" lines (rewritten atomically). It exits
when its parent does, or when killed.

Usage: ci/afl-statsd.py OUT
"""
import os
import socket
import sys


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: afl-statsd.py OUT\n")
        return 2
    out = sys.argv[1]
    parent = os.getppid()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(1.0)
    print(sock.getsockname()[1], flush=True)
    values = {}
    while os.getppid() == parent:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        for line in data.decode("ascii", "replace").splitlines():
            # name:value|type, optionally followed by |#tags
            name, sep, rest = line.partition(":")
            if not sep:
                continue
            value = rest.split("|", 1)[0]
            values[name.rsplit(".", 1)[-1]] = value
        tmp = "%s.tmp.%d" % (out, os.getpid())
        with open(tmp, "w") as f:
            for k in sorted(values):
                f.write("%s %s\n" % (k, values[k]))
        os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
