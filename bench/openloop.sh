#!/usr/bin/env bash
# Latency at a fixed arrival rate (open loop): for Tollgate, nginx and HAProxy in the
# passthrough setup, find each one's saturating rate with wrk (closed loop), then send
# 50% and 80% of the lowest of them — the same offered load to all three — on a fixed
# schedule (proxy/examples/openloop: latency counted from when each request was due, so
# stalls are not hidden; one monoio thread, one task per connection) and report
# p50/p99/p99.9. The load generator and the backend share the second core, so rates
# much above the peers' saturation would measure them. monoio's timers tick in
# milliseconds: every latency includes up to ~1 ms of send-time lateness, the same for
# all three proxies (it sets the p50 floor near 1 ms).
#
#   bench/openloop.sh                  # 8 s per step
#   DURATION=15 bench/openloop.sh
# Output: a table, bench/results/openloop.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-8}
CONNS=${CONNS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
. bench/lib.sh
bench_setup
cargo build --release -q -p tollgate --example openloop
LOAD=target/release/examples/openloop

for f in backend-nginx proxy-nginx; do sed "s#__DIR__#$WORK#" bench/peers/$f.conf > "$WORK/$f.conf"; done
taskset -c 1 "$NGINX" -c "$WORK/backend-nginx.conf" -p "$WORK" &
sleep 0.5
start_proxy() {
  case $1 in
    nginx) taskset -c 0 "$NGINX" -c "$WORK/proxy-nginx.conf" -p "$WORK" & ;;
    haproxy) taskset -c 0 "$HAPROXY" -f bench/peers/proxy-haproxy.cfg & ;;
    tollgate) TOLLGATE_LOG=warn taskset -c 0 "$TOLLGATE" run --config bench/peers/tollgate.yaml & ;;
  esac
  sleep 0.7
}
port_of() { case $1 in nginx) echo 18081;; haproxy) echo 18082;; tollgate) echo 18083;; esac; }

: > "$WORK/openloop.txt"
declare -A SAT
for proxy in tollgate nginx haproxy; do
  start_proxy $proxy
  pid=$!
  SAT[$proxy]=$(taskset -c 1 wrk -t1 -c"$CONNS" -d3s "http://127.0.0.1:$(port_of $proxy)/bench/x" | awk '/Requests\/sec/ {printf "%d", $2}')
  kill $pid; wait $pid 2>/dev/null || true
  sleep 0.3
done
base=$(printf '%s\n' "${SAT[@]}" | sort -n | head -1)
echo "saturation (closed loop, req/s): tollgate ${SAT[tollgate]}, nginx ${SAT[nginx]}, haproxy ${SAT[haproxy]}; offered load from $base"
for proxy in tollgate nginx haproxy; do
  start_proxy $proxy
  pid=$!
  url="http://127.0.0.1:$(port_of $proxy)/bench/x"
  for pct in 50 80; do
    rate=$((base * pct / 100))
    line=$(taskset -c 1 "$LOAD" "$url" "$rate" "$DURATION" 32)
    echo "$proxy ${SAT[$proxy]} $pct $line" | tee -a "$WORK/openloop.txt"
  done
  kill $pid; wait $pid 2>/dev/null || true
  sleep 0.3
done
python3 - "$WORK/openloop.txt" <<'PY'
import json, re, sys
rows = []
for line in open(sys.argv[1]):
    proxy, sat, pct, rest = line.split(" ", 3)
    kv = dict(re.findall(r"(\S+)=([\d.]+)", rest))
    rows.append({"proxy": proxy, "saturation_rps": int(sat), "load_pct": int(pct),
                 **{k: float(v) for k, v in kv.items()}})
json.dump(rows, open("bench/results/openloop.json", "w"), indent=2)
print(f"\n{'proxy':10} {'saturation':>10} {'load':>5} {'rate/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'errors':>6}")
for r in rows:
    print(f"{r['proxy']:10} {r['saturation_rps']:10d} {r['load_pct']:4d}% {r['rate']:8.0f} {r['p50']:8.3f} {r['p99']:8.3f} {r['p99.9']:9.3f} {int(r['errors']):6d}")
PY
