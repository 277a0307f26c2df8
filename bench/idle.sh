#!/usr/bin/env bash
# Memory per idle keep-alive connection: opens N client connections (default 8,000: the three proxies fit in a 20,000-descriptor limit) to
# Tollgate, nginx and HAProxy in the passthrough setup, sends one request on each, keeps
# them open and idle, and reports the proxy's RSS growth per connection.
#
#   bench/idle.sh                      # 8,000 connections
#   N=20000 bench/idle.sh
# Output: a table, bench/results/idle.json.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-8000}
ulimit -n "$(ulimit -Hn)"   # as many as this shell may open
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
. bench/lib.sh
bench_setup
# The peers' benchmark configs cap connections at ~4k: lift the caps for this run.
sed -e "s#__DIR__#$WORK#" -e "s/worker_connections 4096/worker_connections $((N + 1024))/" \
  -e "s/^worker_processes 1;/worker_processes 1;\nworker_rlimit_nofile $(ulimit -Hn);/" \
  bench/peers/proxy-nginx.conf > "$WORK/proxy-nginx.conf"
sed "s#__DIR__#$WORK#" bench/peers/backend-nginx.conf > "$WORK/backend-nginx.conf"
sed "s/maxconn 4000/maxconn $((N + 512))/" bench/peers/proxy-haproxy.cfg > "$WORK/haproxy.cfg"
taskset -c 1 "$NGINX" -c "$WORK/backend-nginx.conf" -p "$WORK" &
sleep 0.5
start_proxy() {
  case $1 in
    nginx) taskset -c 0 "$NGINX" -c "$WORK/proxy-nginx.conf" -p "$WORK" & ;;
    haproxy) taskset -c 0 "$HAPROXY" -f "$WORK/haproxy.cfg" & ;;
    tollgate) TOLLGATE_LOG=warn taskset -c 0 "$TOLLGATE" run --config bench/peers/tollgate.yaml & ;;
  esac
  sleep 0.7
}
port_of() { case $1 in nginx) echo 18081;; haproxy) echo 18082;; tollgate) echo 18083;; esac; }
rss_kib() { # the process and its children
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null || echo 0)))
  done
  echo $total
}
: > "$WORK/idle.txt"
for proxy in ${PROXIES:-tollgate nginx haproxy}; do
  start_proxy $proxy
  pid=$!
  port=$(port_of $proxy)
  curl -sf -o /dev/null "http://127.0.0.1:$port/bench/x"
  before=$(rss_kib $pid)
  python3 - "$port" "$N" "$pid" "$WORK/idle.txt" "$proxy" "$before" <<'PY'
import asyncio, os, sys
port, n, pid, out, proxy, before = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
def rss():
    total = 0
    pids = [pid] + [int(p) for p in os.popen(f"pgrep -P {pid}").read().split()]
    for p in pids:
        try:
            for line in open(f"/proc/{p}/status"):
                if line.startswith("VmRSS"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total
async def one(sem, conns):
    async with sem:
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /bench/x HTTP/1.1\r\nHost: b\r\n\r\n")
        await w.drain()
        head = await r.readuntil(b"\r\n\r\n")
        length = next((int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")), 0)
        await r.readexactly(length)
        conns.append((r, w))
async def main():
    conns = []
    sem = asyncio.Semaphore(256)
    await asyncio.gather(*(one(sem, conns) for _ in range(n)))
    await asyncio.sleep(1.0)
    after = rss()
    per = (after - before) * 1024 / len(conns)
    open(out, "a").write(f"{proxy} {len(conns)} {before} {after} {per:.0f}\n")
    print(f"{proxy}: {len(conns)} idle connections, RSS {before} KiB -> {after} KiB, {per:.0f} bytes per connection")
    for _, w in conns:
        w.close()
asyncio.run(main())
PY
  kill $pid; wait $pid 2>/dev/null || true
  sleep 0.5
done
python3 - "$WORK/idle.txt" <<'PY'
import json, sys
rows = [dict(zip(["proxy", "connections", "rss_before_kib", "rss_after_kib", "bytes_per_connection"], l.split())) for l in open(sys.argv[1])]
json.dump(rows, open("bench/results/idle.json", "w"), indent=2)
PY
