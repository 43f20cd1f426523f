#!/usr/bin/env python3
"""How long a normal reader waits while N idle connections hold the server.

Usage: scripts/idle-flood.py PORT [N] [ROUNDS]

Opens N connections to 127.0.0.1:PORT that never send a byte, waits a moment, then times
ROUNDS ordinary GET / requests made one after another on fresh connections, and prints the
slowest and median. Talks only to 127.0.0.1; closes everything and stops by itself (at most
about 60 s).
"""
import socket
import statistics
import sys
import time

port = int(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 5

idle = []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    idle.append(s)
time.sleep(1.0)

waits = []
for _ in range(rounds):
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: flood\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    waits.append(time.monotonic() - start)
    status = data.split(b" ", 2)[1].decode() if data else "none"
    print(f"reader answered {status} after {waits[-1]:.3f} s", flush=True)

for s in idle:
    s.close()
print(f"{n} idle connections: reader median {statistics.median(waits):.3f} s, slowest {max(waits):.3f} s")
