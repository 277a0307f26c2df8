#!/usr/bin/env bash
# Where a shard's CPU goes under load: kernel vs user split and the top symbols.
#
# Starts the nginx backend and Tollgate (1 shard, CPU 0) from bench/peers, drives it
# with wrk (CPU 1) and samples the shard with `perf record`. Needs perf (linux-perf)
# and the bench tools; installs them with apt when missing. Works without a PMU: perf
# falls back to the cpu-clock software event.
#
#   perf/profile.sh            # 5 s of 64 keep-alive connections
#   SECONDS_=10 CONNS=256 perf/profile.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${SECONDS_:-5}
CONNS=${CONNS:-64}
need=()
command -v perf >/dev/null || need+=(linux-perf)
command -v wrk >/dev/null || need+=(wrk)
[ -x /usr/sbin/nginx ] || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
cargo build --release -q -p tollgate
sed "s#__DIR__#$WORK#" bench/peers/backend-nginx.conf > "$WORK/backend.conf"
taskset -c 1 /usr/sbin/nginx -c "$WORK/backend.conf" -p "$WORK" &
TOLLGATE_LOG=warn taskset -c 0 target/release/tollgate run --config bench/peers/tollgate.yaml &
GW=$!
sleep 0.8
taskset -c 1 wrk -t1 -c"$CONNS" -d1s http://127.0.0.1:18083/bench/x >/dev/null
perf record -F 1999 -g -p "$GW" -o "$WORK/perf.data" -- sleep "$DUR" >/dev/null 2>&1 &
PERF=$!
taskset -c 1 wrk -t1 -c"$CONNS" -d"${DUR}s" http://127.0.0.1:18083/bench/x | grep -E "Requests/sec|Latency"
wait $PERF || true
echo "== CPU by object (kernel vs tollgate vs libc)"
perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -6
echo "== top symbols"
perf report -i "$WORK/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -25
