#!/usr/bin/env python3
"""Write a long trace: the EXIT records of IN repeated TIMES times after its
META and CONF records, resealed (payload length, FNV-1a 64, exit count).
For tests that need a trace longer than a time limit. Prints the number of
exits written. Usage: ci/trace-repeat.py IN OUT TIMES"""
import sys

src, dst, times = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = open(src, "rb").read()
n = int.from_bytes(b[16:24], "little")
payload = b[40 : 40 + n]
recs, i = [], 0
while i < len(payload):
    tag, ln = payload[i : i + 4], int.from_bytes(payload[i + 4 : i + 8], "little")
    recs.append((tag, payload[i : i + 8 + ln]))
    i += 8 + ln
head = b"".join(r for t, r in recs if t != b"EXIT")
exits = [r for t, r in recs if t == b"EXIT"]
body = head + b"".join(exits) * times
h = 0xCBF29CE484222325
for c in body:
    h = ((h ^ c) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
hdr = bytearray(b[:40])
hdr[16:24] = len(body).to_bytes(8, "little")
hdr[24:32] = h.to_bytes(8, "little")
hdr[32:36] = (len(exits) * times).to_bytes(4, "little")
open(dst, "wb").write(bytes(hdr) + body)
print(len(exits) * times)
