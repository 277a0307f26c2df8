#!/usr/bin/env bash
# HTTP/2 benchmark: Tollgate, nginx and HAProxy side by side, in one run.
#
# The TLS layout (bench/tls.sh) with HTTP/2 on the client side: each proxy runs one
# worker pinned to CPU 0 in front of the same nginx backend (pinned to CPU 1, plain
# HTTP/1.1 with keep-alive), and h2load runs on CPU 1 too: 4 TLS connections (ALPN h2)
# with up to 100 concurrent streams each, GET of the backend's 100-byte body. Same
# certificate and TLS settings as tls.sh (ECDSA P-256 for localhost / 127.0.0.1, TLS 1.2
# and 1.3, tickets and a session cache on). HTTP/2 settings:
#   Tollgate   tls.sh's config, nothing added: gateway.http2 is on by default (h2 offered
#              by ALPN, 100 concurrent streams)
#   nginx      listen ... ssl http2 (1.22 syntax), http2_max_concurrent_streams 128;
#              keepalive_requests, which also caps the requests of an h2 connection
#              since 1.19.7, raised from 1e6 to 1e9 so that no connection hits it
#   HAProxy    bind ... ssl crt ... alpn h2,http/1.1 (100 concurrent streams by default)
# Every proxy talks HTTP/1.1 to the backend, one request per connection at a time, so
# up to 400 requests in flight need up to 400 backend connections. All three may keep
# that many idle (Tollgate `pool.max-idle-per-backend: 512`, nginx `keepalive 512`,
# HAProxy has no limit); with their defaults (64, 128) Tollgate and nginx would close
# and reopen most backend connections and measure that instead. The `backend conns`
# column counts the connections the backend accepted during the measured window (nginx
# stub_status): a proxy that still churns shows there.
#
# Measured per proxy and round: one h2load run with 1 s of warm-up (--warm-up-time),
# then DURATION s; the proxy's CPU (utime+stime, lib.sh's cpu_ticks) is read when h2load
# says its main phase starts and ends, so the CPU and the request count cover the same
# window. Reported: requests/s, CPU µs per request, requests per CPU-second of the proxy
# (= 1e6 / µs) and the ratio Tollgate / peer of requests per CPU-second (higher is
# better). Each run must have negotiated h2 (h2load's `Application protocol`); failed,
# errored or non-2xx requests are reported as warnings.
#
# Checks before measuring: ready within 10 s, and `curl --http2 --cacert cert.pem
# https://localhost:PORT/bench/x` returns the backend body over HTTP version 2.
#
#   bench/h2.sh                         # 3 rounds x 10 s per proxy
#   ROUNDS=1 DURATION=5 bench/h2.sh
#   SKIP_TOLLGATE=1 bench/h2.sh         # nginx and HAProxy only, no cargo build
#   CLIENTS=8 STREAMS=50 bench/h2.sh    # other h2load -c / -m
#
# Output: a table on stdout, bench/results/h2.csv and bench/results/h2.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CLIENTS=${CLIENTS:-4}
STREAMS=${STREAMS:-100}
PROXIES=${PROXIES:-tollgate nginx haproxy}
[ "${SKIP_TOLLGATE:-0}" = 1 ] && PROXIES=$(echo $PROXIES | tr ' ' '\n' | grep -vx tollgate | xargs)
# No release build when Tollgate is not measured.
case " $PROXIES " in *" tollgate "*) ;; *) SKIP_TOLLGATE=1 ;; esac
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
. bench/lib.sh
bench_setup h2load=nghttp2-client openssl=openssl
BODY=0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456
# The backend binds with reuseport: another listener there would silently take a share.
busy=$(ss -Hltn "( sport = :18080 or sport = :18095 or sport = :18096 or sport = :18097 or sport = :18098 )")
[ -z "$busy" ] || { echo "ports of this benchmark in use:"; echo "$busy"; exit 1; }

bench_cert "$WORK"

# Configs: tls.sh's, on other ports, with h2 on the TLS listener. The backend gets a
# stub_status location (its accepted-connections counter) next to the bench one.
sed -e "s#__DIR__#$WORK#" \
  -e "s#listen 127.0.0.1:18080 reuseport;#&\n    location = /backend-status { stub_status; }#" \
  bench/peers/backend-nginx.conf > "$WORK/backend-nginx.conf"
sed -e "s#__DIR__#$WORK#" -e "s#keepalive_requests 1000000;#keepalive_requests 1000000000;#" \
  -e "s#keepalive 128;#keepalive 512;#" \
  -e "s#listen 127.0.0.1:18081;#listen 127.0.0.1:18095 ssl http2;\n\
    ssl_certificate $WORK/cert.pem;\n    ssl_certificate_key $WORK/key.pem;\n\
    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_tickets on;\n\
    ssl_session_cache shared:SSL:10m;\n    http2_max_concurrent_streams 128;#" \
  bench/peers/proxy-nginx.conf > "$WORK/proxy-nginx.conf"
sed "s#bind 127.0.0.1:18082#bind 127.0.0.1:18096 ssl crt $WORK/haproxy.pem alpn h2,http/1.1#" \
  bench/peers/proxy-haproxy.cfg > "$WORK/haproxy.cfg"
sed "s#listen: { http: 127.0.0.1:18083 }#listen: { http: 127.0.0.1:18098, https: 127.0.0.1:18097 }\n\
  pool: { max-idle-per-backend: 512 }\n\
  tls:\n    certificates:\n\
      - { hostnames: [localhost], cert: $WORK/cert.pem, key: $WORK/key.pem }#" \
  bench/peers/tollgate.yaml > "$WORK/tollgate.yaml"
grep -q "stub_status" "$WORK/backend-nginx.conf" && grep -q "ssl http2" "$WORK/proxy-nginx.conf" &&
  grep -q "keepalive 512" "$WORK/proxy-nginx.conf" && grep -q "max-idle-per-backend: 512" "$WORK/tollgate.yaml" &&
  grep -q "alpn h2" "$WORK/haproxy.cfg" && grep -q "https: 127.0.0.1:18097" "$WORK/tollgate.yaml" ||
  { echo "the peer configs in bench/peers/ changed: update bench/h2.sh's substitutions"; exit 1; }
taskset -c 1 "$NGINX" -c "$WORK/backend-nginx.conf" -p "$WORK" &
sleep 0.5

start_proxy() { bench_start_tls_proxy "$1"; }
port_of() { case $1 in nginx) echo 18095;; haproxy) echo 18096;; tollgate) echo 18097;; esac; }

# Connections the backend has accepted so far (the reading itself is one of them).
backend_accepts() {
  curl -s --max-time 2 http://127.0.0.1:18080/backend-status | awk 'NR == 3 {print $1}'
}

# Ready (answers https within 10 s), and proxies to the backend over HTTP/2 with our
# certificate for localhost.
check_proxy() {
  local proxy=$1 pid=$2 port=$3 body version
  bench_wait_https "$proxy" "$pid" "$port" || return 1
  version=$(curl -s --max-time 2 --http2 --cacert "$WORK/cert.pem" --resolve "localhost:$port:127.0.0.1" \
    -o "$WORK/body" -w '%{http_version}' "https://localhost:$port/bench/x") || true
  body=$(cat "$WORK/body" 2>/dev/null || true)
  [ "$body" = "$BODY" ] || { echo "$proxy does not proxy over https (got '$body')"; return 1; }
  [ "$version" = 2 ] || { echo "$proxy answers over HTTP version '$version', not 2 (no h2 by ALPN?)"; return 1; }
}

# One measured h2load run: 1 s warm-up, DURATION s counted; the proxy's CPU and the
# backend's accepted connections are read at the start and the end of the counted phase
# (h2load prints them line by line). Appends proxy,round,requests,rps,cpu_us,mean_ms,
# backend_conns,errors.
measure_h2() { # proxy round pid port
  local proxy=$1 round=$2 pid=$3 port=$4 line c0="" c1="" a0=0 a1=0 out=$WORK/h2load.out
  : > "$out"
  while IFS= read -r line; do
    echo "$line" >> "$out"
    case $line in
      "Main benchmark duration is started"*) c0=$(cpu_ticks "$pid"); a0=$(backend_accepts) ;;
      "Main benchmark duration is over"*) c1=$(cpu_ticks "$pid"); a1=$(backend_accepts) ;;
    esac
  done < <(timeout -k 5 $((DURATION + 60)) taskset -c 1 h2load -t1 -c"$CLIENTS" -m"$STREAMS" \
    --warm-up-time=1 -D "$DURATION" "https://127.0.0.1:$port/bench/x" 2>&1 || true)
  if [ -z "$c0" ] || [ -z "$c1" ] || ! grep -q '^requests:' "$out"; then
    echo "$proxy: h2load did not complete:"; cat "$out"; return 1
  fi
  grep -q '^Application protocol: h2$' "$out" ||
    { echo "$proxy: h2load did not negotiate h2:"; grep -i 'protocol' "$out"; return 1; }
  local reqs rps mean errs cpu_us
  reqs=$(awk '/^requests:/ {print $8}' "$out")         # succeeded
  rps=$(awk '/^finished in/ {print $4}' "$out")         # over the counted phase
  mean=$(awk '/^time for request:/ {print $6}' "$out")
  errs=$(awk '/^requests:/ {e = $10 + $12 + $14} /^status codes:/ {e += $5 + $7 + $9} END {print e}' "$out")
  [ "$errs" = 0 ] || echo "warning: $proxy: $(grep -E '^(requests|status codes):' "$out" | xargs)"
  [ "${reqs:-0}" -gt 0 ] || { echo "$proxy: no request succeeded:"; cat "$out"; return 1; }
  cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v r="$reqs" 'BEGIN {printf "%.2f", d * 1e6 / hz / r}')
  echo "$proxy,$round,$reqs,$rps,$cpu_us,${mean:-},$((a1 - a0 - 1)),$errs" >> "$OUT/h2.csv"
}

echo "proxy,round,requests,rps,cpu_us_per_req,mean_request_time,backend_conns,errors" > "$OUT/h2.csv"
for round in $(seq 1 "$ROUNDS"); do
  for proxy in $PROXIES; do
    start_proxy $proxy
    pid=$!
    port=$(port_of $proxy)
    check_proxy $proxy $pid $port || exit 1
    measure_h2 $proxy $round $pid $port || exit 1
    kill $pid; wait $pid 2>/dev/null || true
    sleep 0.3
  done
done

python3 - "$OUT/h2.csv" "$OUT/h2.json" "$CLIENTS" "$STREAMS" "$DURATION" $PROXIES <<'PY'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
clients, streams, duration, names = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]
def stats(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v)}
res = {"setup": {"clients": clients, "streams_per_client": streams, "duration_s": duration}}
for p in names:
    r = [x for x in rows if x["proxy"] == p]
    cpu = [float(x["cpu_us_per_req"]) for x in r]
    res[p] = {"cpu_us_per_req": stats(cpu), "req_per_cpu_s": stats([1e6 / c for c in cpu]),
              "rps": stats([float(x["rps"]) for x in r]),
              "mean_request_time": [x["mean_request_time"] for x in r],
              "backend_conns": [int(x["backend_conns"]) for x in r],
              "errors": [int(x["errors"]) for x in r]}
ratios = {}
if "tollgate" in names:
    for peer in [n for n in names if n != "tollgate"]:
        ratios[f"tollgate_vs_{peer}"] = res["tollgate"]["req_per_cpu_s"]["median"] / res[peer]["req_per_cpu_s"]["median"]
res["ratios"] = ratios
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(f"HTTP/2 over TLS, {clients} connections x {streams} streams, {duration} s per round, {len(rows) // max(len(names), 1)} round(s)")
print(f"{'proxy':9} {'req/s median [min..max]':27} {'CPU us/req median [min..max]':30} {'req per CPU-s median [min..max]':32} {'backend conns':>13}  mean req time per round")
for p in names:
    e = res[p]
    q, c, h = e["rps"], e["cpu_us_per_req"], e["req_per_cpu_s"]
    qs = f"{q['median']:7.0f} [{q['min']:.0f}..{q['max']:.0f}]"
    cs = f"{c['median']:7.2f} [{c['min']:.2f}..{c['max']:.2f}]"
    hs = f"{h['median']:7.0f} [{h['min']:.0f}..{h['max']:.0f}]"
    bc = f"{statistics.median(e['backend_conns']):.0f}"
    print(f"{p:9} {qs:27} {cs:30} {hs:32} {bc:>13}  {' '.join(e['mean_request_time'])}")
    if any(e["errors"]):
        print(f"  warning: {p}: failed, errored or non-2xx requests per round: {e['errors']}")
for k, v in ratios.items():
    print(f"ratio {k:20} = {v:.2f}  (requests per CPU-second, higher is better)")
PY
