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
. perf/lib.sh
DUR=${SECONDS_:-5}
perf_setup
perf_start
perf record -F 1999 -g -p "$GW" -o "$WORK/perf.data" -- sleep "$DUR" >/dev/null 2>&1 &
PERF=$!
perf_load "$DUR" "${CONNS:-64}"
wait $PERF || true
echo "== CPU by object (kernel vs tollgate vs libc)"
perf report -i "$WORK/perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -6
echo "== top symbols"
perf report -i "$WORK/perf.data" --no-children --sort sym --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -25
