#!/usr/bin/env python3
"""Load generator and watcher for scripts/soak.sh (run that, not this).

Drives a running `forkblog serve` on 127.0.0.1:PORT with a bounded number of client threads,
each looping over mixed connection kinds until the deadline; sends SIGHUP every --hup seconds;
every --every seconds prints the parent's open fds, RSS, live children, zombies and generation
read from /proc. After the load it lets the server settle and compares the idle figures with the
idle figures taken before the load. Exit status 0 when nothing drifted and every client saw what
it expected, 1 otherwise (each failure is named on stderr).

Standard library only.
"""

import argparse
import os
import random
import re
import signal
import socket
import sys
import threading
import time

# ---------------------------------------------------------------------------------------------
# /proc readings of the parent


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def parent_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def fd_targets(pid):
    """What each open descriptor points at, e.g. {3: 'socket:[123]', 4: '/memfd:...'}."""
    out = {}
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                out[int(fd)] = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                pass
    except OSError:
        pass
    return out


def parent_rss_kib(pid):
    status = read(f"/proc/{pid}/status") or b""
    m = re.search(rb"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(m.group(1)) if m else -1


def generation(pid):
    # After a re-exec the handover variable in the new image's environment carries the count.
    env = read(f"/proc/{pid}/environ") or b""
    m = re.search(rb"FORKBLOG_HANDOVER=[^\0]*?generation=(\d+)", env)
    return int(m.group(1)) if m else 0


def children(pid):
    """(live, zombies): the parent's child processes (connections and render workers)."""
    live, zombies = [], []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read(f"/proc/{entry}/stat")
        if not stat:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split at the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) < 2 or int(fields[1]) != pid:
            continue
        (zombies if fields[0] == b"Z" else live).append(int(entry))
    return live, zombies


def sample(pid):
    live, zombies = children(pid)
    return {
        "fds": parent_fds(pid),
        "rss": parent_rss_kib(pid),
        "live": len(live),
        "zombies": set(zombies),
        "gen": generation(pid),
    }


# ---------------------------------------------------------------------------------------------
# Clients

PATHS = ["/", "/feed.xml", "/sitemap.xml", "/robots.txt", "/static/style.css", "/archive/",
         "/tags/", "/posts/why-fork-per-connection/", "/posts/reaping-zombies/",
         "/posts/reaping-zombies/lifecycle.svg", "/no/such/page", "/posts/reaping-zombies"]

# Requests a careful server refuses, with the statuses it may answer.
MALFORMED = [
    (b"GET / HTTP/1.1\r\n\r\n", {400}),                                     # no Host
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {400}),
    (b"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", {400}),
    (b"GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n", {400}),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n", {400}),
    (b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\nabc",
     {400}),
    (b"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {413}),
    (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", {413}),
    (b"DELETE / HTTP/1.1\r\nHost: a\r\n\r\n", {405}),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", {505}),
    (b"GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n", {400}),
    (b"GET /%00 HTTP/1.1\r\nHost: a\r\n\r\n", {400}),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32) + b"\r\n\r\n", {400}),  # TLS
    (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", {414, 431}),
    (b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X-A: b\r\n" * 70 + b"\r\n", {431}),
    (b"GET /../../etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", {404}),
    (b"GET /%2e%2e%2f%2e%2e%2fetc/passwd HTTP/1.1\r\nHost: a\r\n\r\n", {404}),
]


class Failure(Exception):
    pass


class Conn:
    """A client connection with a read buffer and a response reader."""

    def __init__(self, port, timeout):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _more(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise Failure("connection closed before a complete response")
        self.buf += chunk

    def response(self, head_only=False):
        """Reads one response; returns (status, headers dict, body)."""
        while b"\r\n\r\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.split(b"\r\n")
        m = re.match(rb"HTTP/1\.[01] (\d{3}) ", lines[0] + b" ")
        if not m:
            raise Failure(f"bad status line {lines[0][:60]!r}")
        status = int(m.group(1))
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if head_only or status == 304:
            return status, headers, b""
        length = int(headers.get(b"content-length", b"-1"))
        if length < 0:
            raise Failure(f"{status} without Content-Length")
        while len(self.buf) < length:
            self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, headers, body

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def request(path, close=False, method="GET", extra=b""):
    head = f"{method} {path} HTTP/1.1\r\nHost: soak\r\nUser-Agent: forkblog-soak\r\n".encode()
    if close:
        head += b"Connection: close\r\n"
    return head + extra + b"\r\n"


def expect_ok(status, path):
    if status >= 500:
        raise Failure(f"{status} for {path}")
    if status not in (200, 301, 304, 404):
        raise Failure(f"unexpected {status} for {path}")


class Client:
    def __init__(self, args, rng, stats):
        self.args = args
        self.rng = rng
        self.stats = stats
        # Long enough for a connection that waited in the backlog while every slot was busy.
        self.timeout = args.head_timeout * 3 + 10

    def conn(self):
        return Conn(self.args.port, self.timeout)

    def normal(self):
        path = self.rng.choice(PATHS)
        gzip = self.rng.random() < 0.5
        c = self.conn()
        try:
            c.send(request(path, close=True, extra=b"Accept-Encoding: gzip\r\n" if gzip else b""))
            status, headers, _ = c.response()
            expect_ok(status, path)
            if headers.get(b"connection", b"").lower() != b"close":
                raise Failure(f"{path}: no Connection: close in the answer")
            # The server closes after answering.
            c.sock.settimeout(self.timeout)
            if c.sock.recv(1) != b"":
                raise Failure(f"{path}: bytes after a Connection: close response")
        finally:
            c.close()

    def keep_alive(self):
        paths = [self.rng.choice(PATHS) for _ in range(self.rng.randint(2, 6))]
        pipelined = self.rng.random() < 0.3
        c = self.conn()
        try:
            reqs = [request(p, close=(i == len(paths) - 1),
                            method="HEAD" if i % 3 == 2 else "GET")
                    for i, p in enumerate(paths)]
            if pipelined:
                c.send(b"".join(reqs))
            for i, (path, req) in enumerate(zip(paths, reqs)):
                if not pipelined:
                    c.send(req)
                status, headers, _ = c.response(head_only=req.startswith(b"HEAD"))
                expect_ok(status, path)
                etag = headers.get(b"etag")
                if etag and i == 0 and not pipelined and self.rng.random() < 0.5:
                    c.send(request(path, extra=b"If-None-Match: " + etag + b"\r\n"))
                    status, _, _ = c.response()
                    if status != 304:
                        raise Failure(f"If-None-Match {etag!r} on {path} gave {status}")
        finally:
            c.close()

    def aborted(self):
        req = request(self.rng.choice(PATHS))
        c = self.conn()
        try:
            c.send(req[: self.rng.randint(1, len(req) - 1)])
            time.sleep(self.rng.random() * 0.3)
            if self.rng.random() < 0.5:
                # Abortive close: RST instead of FIN.
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
        finally:
            c.close()

    def malformed(self):
        data, allowed = self.rng.choice(MALFORMED)
        c = self.conn()
        try:
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused before the whole request was written: the answer is still there
            status, _, _ = c.response()
            if status not in allowed:
                raise Failure(f"{data[:40]!r}... gave {status}, expected {sorted(allowed)}")
        finally:
            c.close()

    def silent(self):
        c = self.conn()
        try:
            start = time.monotonic()
            status, _, _ = c.response()
            took = time.monotonic() - start
            if status != 408:
                raise Failure(f"silent connection got {status}, expected 408")
            if took < self.args.head_timeout - 1:
                raise Failure(f"silent connection timed out after {took:.1f}s")
        finally:
            c.close()

    def slow(self):
        path = self.rng.choice(PATHS)
        req = request(path, close=True)
        # Byte at a time, finishing well inside the head timeout.
        delay = min(0.05, (self.args.head_timeout * 0.5) / len(req))
        c = self.conn()
        try:
            for i in range(len(req)):
                c.send(req[i:i + 1])
                time.sleep(delay)
            status, _, _ = c.response()
            expect_ok(status, path)
        finally:
            c.close()

    KINDS = [("normal", 40), ("keep_alive", 20), ("aborted", 10), ("malformed", 15),
             ("silent", 2), ("slow", 5)]

    def run(self, deadline):
        names = [k for k, _ in self.KINDS]
        weights = [w for _, w in self.KINDS]
        while time.monotonic() < deadline:
            kind = self.rng.choices(names, weights)[0]
            try:
                getattr(self, kind)()
                self.stats.count(kind, None)
            except (Failure, OSError) as e:
                self.stats.count(kind, f"{kind}: {type(e).__name__}: {e}")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = {}
        self.failed = {}
        self.examples = []

    def count(self, kind, error):
        with self.lock:
            if error is None:
                self.done[kind] = self.done.get(kind, 0) + 1
            else:
                self.failed[kind] = self.failed.get(kind, 0) + 1
                if len(self.examples) < 10:
                    self.examples.append(error)


# ---------------------------------------------------------------------------------------------


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--hup", type=float, default=5)
    p.add_argument("--every", type=float, default=2)
    p.add_argument("--head-timeout", type=float, required=True)
    p.add_argument("--settle", type=float, default=30, help="most seconds to wait for idle")
    p.add_argument("--fd-slack", type=int, default=2)
    p.add_argument("--rss-slack-kib", type=int, default=2048)
    p.add_argument("--seed", type=int, default=None)
    args = p.parse_args()
    pid = args.pid
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    failures = []

    def line(elapsed, s, note=""):
        print(f"{elapsed:6.1f}s  fds {s['fds']:4d}  rss {s['rss']:7d} KiB  children {s['live']:3d}"
              f"  zombies {len(s['zombies']):2d}  gen {s['gen']:3d}{note}", flush=True)

    def idle_sample(limit):
        """Waits until the parent is idle: no child (connection or render worker), no zombie,
        and the same fd count and generation in two samples half a second apart (so that a
        reload in progress is not caught half-way). Returns the last sample after `limit` s."""
        end = time.monotonic() + limit
        prev = None
        while True:
            s = sample(pid)
            idle = s["live"] == 0 and not s["zombies"]
            if idle and prev and (prev["fds"], prev["gen"]) == (s["fds"], s["gen"]):
                return s
            if time.monotonic() > end:
                return s
            prev = s if idle else None
            time.sleep(0.5)

    print(f"soak: PID {pid}, port {args.port}, {args.seconds:.0f}s, {args.clients} clients, "
          f"SIGHUP every {args.hup:.0f}s, seed {seed}", flush=True)
    base = idle_sample(10)
    base_fds = fd_targets(pid)
    line(0.0, base, "  (idle baseline)")

    stats = Stats()
    start = time.monotonic()
    deadline = start + args.seconds
    threads = [threading.Thread(target=Client(args, random.Random(seed + i), stats).run,
                                args=(deadline,), daemon=True) for i in range(args.clients)]
    for t in threads:
        t.start()

    next_hup = start + args.hup
    next_print = start + args.every
    hups = 0
    peak = dict(fds=base["fds"], rss=base["rss"], live=0)
    prev_zombies = set()
    while time.monotonic() < deadline:
        now = time.monotonic()
        if now >= next_hup:
            os.kill(pid, signal.SIGHUP)
            hups += 1
            next_hup += args.hup
        if now >= next_print:
            s = sample(pid)
            for k in peak:
                peak[k] = max(peak[k], s[k])
            stuck = s["zombies"] & prev_zombies
            if stuck:
                failures.append(f"zombie(s) {sorted(stuck)} outlived {args.every:.0f}s")
            prev_zombies = s["zombies"]
            line(now - start, s, f"  zombie PIDs {sorted(stuck)}" if stuck else "")
            next_print += args.every
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            failures.append("the server exited during the run")
            break
        time.sleep(min(0.1, max(0.0, min(next_hup, next_print) - time.monotonic())))

    for t in threads:
        t.join(timeout=args.head_timeout * 3 + 15)
    if any(t.is_alive() for t in threads):
        failures.append("client threads still running after the deadline")
    # Let the last reload finish and every connection end, then compare idle with idle.
    time.sleep(1)
    end = idle_sample(args.settle)
    line(time.monotonic() - start, end, "  (idle after the load)")

    total = sum(stats.done.values()) + sum(stats.failed.values())
    print(f"connections: {total} ("
          + ", ".join(f"{k} {stats.done.get(k, 0)}" + (f"/{stats.failed[k]} failed"
                                                       if k in stats.failed else "")
                      for k, _ in Client.KINDS) + ")")
    print(f"SIGHUPs sent: {hups}; generation {base['gen']} -> {end['gen']}; "
          f"peaks: fds {peak['fds']}, rss {peak['rss']} KiB, children {peak['live']}")
    print(f"fds: {base['fds']} -> {end['fds']} (allowed <= {base['fds'] + args.fd_slack}); "
          f"rss: {base['rss']} -> {end['rss']} KiB "
          f"(allowed <= {base['rss'] + args.rss_slack_kib}); "
          f"children at end: {end['live']}, zombies at end: {len(end['zombies'])}")

    if stats.failed:
        failures.append(f"{sum(stats.failed.values())} client connection(s) failed: "
                        + "; ".join(stats.examples))
    if end["fds"] > base["fds"] + args.fd_slack:
        # Descriptors are matched by what they point at: a re-exec may renumber them.
        kinds = lambda fds: sorted(re.sub(r"\[\d+\]|\d+$", "", t) for t in fds.values())
        added = list(kinds(fd_targets(pid)))
        for k in kinds(base_fds):
            if k in added:
                added.remove(k)
        failures.append(f"parent fds drifted {base['fds']} -> {end['fds']} (new: "
                        + ", ".join(f"{added.count(k)} x {k}" for k in sorted(set(added))) + ")")
    if end["rss"] > base["rss"] + args.rss_slack_kib:
        failures.append(f"parent RSS drifted {base['rss']} -> {end['rss']} KiB")
    if end["live"]:
        failures.append(f"{end['live']} child(ren) still alive {args.settle:.0f}s after the load")
    if end["zombies"]:
        failures.append(f"zombie(s) at the end: {sorted(end['zombies'])}")
    if hups and end["gen"] < base["gen"] + 1:
        failures.append(f"{hups} SIGHUPs but generation only {base['gen']} -> {end['gen']}")
    if total == 0:
        failures.append("no connection completed")
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
