#!/usr/bin/env bash
# Checks that scripts/soak.py catches what it is there to catch: it is pointed at a fake server
# (Python, loopback) that leaks one descriptor per connection, never reaps the child it forks
# for each one, answers 200 to everything and ignores SIGHUP. The soak must fail and name the
# fd drift, the zombies, the stuck generation and the wrong answers. About 15 s; opt-in.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
fake=""
trap '[ -n "$fake" ] && kill -KILL "$fake" 2>/dev/null; rm -rf "$work"' EXIT

cat >"$work/fake.py" <<'PY'
import os, signal, socket, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # children are never waited for: zombies
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(128)
print(srv.getsockname()[1], flush=True)
leaked = []
while True:
    conn, _ = srv.accept()
    leaked.append(os.dup(conn.fileno()))  # the leak
    if os.fork() == 0:
        os._exit(0)
    conn.settimeout(1)
    try:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    except OSError:
        pass
    conn.close()
PY
python3 "$work/fake.py" >"$work/port" &
fake=$!
disown "$fake"  # no "Killed" notice when the trap ends it
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")

set +e
python3 scripts/soak.py --pid "$fake" --port "$port" --seconds 6 --clients 4 --hup 2 \
  --head-timeout 1 --settle 3 >"$work/out" 2>&1
rc=$?
set -e
cat "$work/out"
ok=1
[ "$rc" -eq 1 ] || { echo "selftest: soak.py exited $rc, expected 1"; ok=0; }
for needle in "FAIL: parent fds drifted" "FAIL: zombie" "generation only" "client connection(s) failed"; do
  grep -qF "$needle" "$work/out" || { echo "selftest: no '$needle' in the output"; ok=0; }
done
if [ "$ok" -eq 1 ]; then echo "soak selftest: PASS"; else echo "soak selftest: FAIL"; exit 1; fi
