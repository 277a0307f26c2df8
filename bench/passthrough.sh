#!/usr/bin/env bash
# Passthrough benchmark: Tollgate, nginx and HAProxy side by side, in one run.
#
# Each proxy runs with one worker pinned to CPU 0 in front of the same nginx backend
# (a fixed 100-byte body) pinned to CPU 1, and wrk (64 keep-alive connections) runs on
# CPU 1 too. Proxies are measured alternately for ROUNDS rounds of DURATION seconds.
# The figure that matters is CPU µs per request of the proxy process: (utime+stime
# over the window) / requests, which does not depend on how fast the load generator is.
#
#   bench/passthrough.sh              # 3 rounds x 10 s
#   ROUNDS=1 DURATION=5 bench/passthrough.sh
#
# A fourth row, tollgate-policy, runs the 10-policy inbound pipeline of
# bench/peers/tollgate-policy.yaml (no peer runs APIM policies; it shows the policy cost).
#
# Output: a table on stdout and bench/results/passthrough.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
. bench/lib.sh
bench_setup

for f in backend-nginx proxy-nginx; do sed "s#__DIR__#$WORK#" bench/peers/$f.conf > "$WORK/$f.conf"; done
taskset -c 1 "$NGINX" -c "$WORK/backend-nginx.conf" -p "$WORK" & 
sleep 0.5

start_proxy() {
  case $1 in
    nginx) taskset -c 0 "$NGINX" -c "$WORK/proxy-nginx.conf" -p "$WORK" & ;;
    haproxy) taskset -c 0 "$HAPROXY" -f bench/peers/proxy-haproxy.cfg & ;;
    tollgate) TOLLGATE_LOG=warn taskset -c 0 "$TOLLGATE" run --config bench/peers/tollgate.yaml & ;;
    tollgate-policy) TOLLGATE_LOG=warn taskset -c 0 "$TOLLGATE" run --config bench/peers/tollgate-policy.yaml & ;;
  esac
  sleep 0.7
}
port_of() { case $1 in nginx) echo 18081;; haproxy) echo 18082;; tollgate) echo 18083;; tollgate-policy) echo 18084;; esac; }
echo "proxy,round,requests,rps,cpu_us_per_req,p50_ms,p99_ms" > "$OUT/passthrough.csv"
for round in $(seq 1 "$ROUNDS"); do
  for proxy in tollgate nginx haproxy tollgate-policy; do
    start_proxy $proxy
    pid=$!
    port=$(port_of $proxy)
    # Check it really proxies before measuring.
    body=$(curl -s "http://127.0.0.1:$port/bench/x")
    [ "$body" = "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456" ] || { echo "$proxy does not proxy (got '$body')"; exit 1; }
    measure "$OUT/passthrough.csv" $proxy $round $pid "http://127.0.0.1:$port/bench/x"
    kill $pid; wait $pid 2>/dev/null || true
    sleep 0.3
  done
done

python3 - "$OUT/passthrough.csv" "$OUT/passthrough.json" <<'PY'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
res = {}
for p in ["tollgate", "nginx", "haproxy", "tollgate-policy"]:
    r = [x for x in rows if x["proxy"] == p]
    cpu = [float(x["cpu_us_per_req"]) for x in r]
    rps = [float(x["rps"]) for x in r]
    res[p] = {"cpu_us_per_req": {"median": statistics.median(cpu), "min": min(cpu), "max": max(cpu)},
              "rps": {"median": statistics.median(rps), "min": min(rps), "max": max(rps)},
              "p50": [x["p50_ms"] for x in r], "p99": [x["p99_ms"] for x in r]}
t = res["tollgate"]["cpu_us_per_req"]["median"]
res["ratios"] = {"tollgate_vs_nginx": t / res["nginx"]["cpu_us_per_req"]["median"],
                 "tollgate_vs_haproxy": t / res["haproxy"]["cpu_us_per_req"]["median"]}
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(f"{'proxy':10} {'CPU us/req median [min..max]':32} {'req/s median':>14}  p99 per round")
for p in ["tollgate", "nginx", "haproxy", "tollgate-policy"]:
    c = res[p]["cpu_us_per_req"]
    print(f"{p:10} {c['median']:6.2f} [{c['min']:.2f}..{c['max']:.2f}]{'':14} {res[p]['rps']['median']:14.0f}  {' '.join(res[p]['p99'])}")
print(f"ratio tollgate/nginx   = {res['ratios']['tollgate_vs_nginx']:.2f}")
print(f"ratio tollgate/haproxy = {res['ratios']['tollgate_vs_haproxy']:.2f}")
PY
