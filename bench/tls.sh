#!/usr/bin/env bash
# TLS termination benchmark: Tollgate, nginx and HAProxy side by side, in one run.
#
# The passthrough layout (bench/passthrough.sh) with TLS on the client side: each proxy
# runs one worker pinned to CPU 0 in front of the same nginx backend (pinned to CPU 1,
# plain http with keep-alive), and wrk (64 connections) runs on CPU 1 too. All three
# serve the same ECDSA P-256 certificate for localhost / 127.0.0.1, made at start
# (self-signed; wrk does not verify), TLS 1.2 and 1.3 enabled, session tickets and a
# session cache on (nginx: shared:SSL:10m; HAProxy and Tollgate: their defaults). wrk's
# OpenSSL offers TLS 1.3 with X25519 first; each proxy is checked for TLS 1.3 + ECDSA.
#
#   tls-keepalive   keep-alive requests over 64 TLS connections: CPU µs per request
#   tls-handshake   one request per connection (Connection: close), every handshake a
#                   full one: handshakes per CPU-second of the proxy
#                   (= handshakes / proxy CPU seconds); Tollgate/nginx target >= 1.2
#   tls-resumed     the same, every handshake resumed (TLS 1.3 PSK with ECDHE from the
#                   ticket of the connection before): handshakes per CPU-second
#
# How handshakes are generated: wrk, with `Connection: close`, in both cases. wrk resumes
# by itself: it keeps one SSL object per connection slot and SSL_clear() keeps the
# session after a clean shutdown, so each reconnection offers the ticket of the last
# one. A small LD_PRELOAD library built here with cc wraps SSL_connect in wrk: it counts
# full and resumed handshakes on the client (the `resumed` column: the share of the
# reconnections, as each connection's first handshake is full; expected 0% and 100%, it
# shows a proxy that does not resume), and with TLS_NEW_SESSIONS=1 drops the kept
# session before each handshake, so that every one is full. The two scenarios thus
# differ only in resumption: same generator, connections and request.
# (openssl s_time -new/-reuse would do one connection at a time and sends HTTP/1.0
# without a Host header.)
#
#   bench/tls.sh                      # 3 rounds x 10 s per scenario and proxy
#   ROUNDS=1 DURATION=3 bench/tls.sh
#   SKIP_TOLLGATE=1 bench/tls.sh      # nginx and HAProxy only, no cargo build
#
# Output: a table on stdout and bench/results/tls.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
PROXIES=${PROXIES:-tollgate nginx haproxy}
[ "${SKIP_TOLLGATE:-0}" = 1 ] && PROXIES=$(echo $PROXIES | tr ' ' '\n' | grep -vx tollgate | xargs)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
. bench/lib.sh
bench_setup openssl=openssl cc=gcc
BODY=0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456
# The backend binds with reuseport: another listener there would silently take a share.
busy=$(ss -Hltn "( sport = :18080 or sport = :18091 or sport = :18092 or sport = :18093 or sport = :18094 )")
[ -z "$busy" ] || { echo "ports of this benchmark in use:"; echo "$busy"; exit 1; }

# The server certificate and the one key pair all proxies use.
bench_cert "$WORK"

# The client-side handshake counter (and session dropper) preloaded into wrk.
cat > "$WORK/tlscount.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct ssl_st SSL;
static long full, resumed;
int SSL_connect(SSL *s) {
  static int (*connect)(SSL *), (*in_before)(const SSL *), (*set_session)(SSL *, void *),
      (*reused)(const SSL *);
  if (!connect) {
    in_before = dlsym(RTLD_NEXT, "SSL_in_before");
    set_session = dlsym(RTLD_NEXT, "SSL_set_session");
    reused = dlsym(RTLD_NEXT, "SSL_session_reused");
    connect = dlsym(RTLD_NEXT, "SSL_connect");
  }
  /* wrk calls SSL_connect again while it wants to read or write: only before the first */
  if (getenv("TLS_NEW_SESSIONS") && in_before(s)) set_session(s, NULL);
  int r = connect(s);
  if (r == 1) __atomic_add_fetch(reused(s) ? &resumed : &full, 1, __ATOMIC_RELAXED);
  return r;
}
__attribute__((destructor)) static void report(void) {
  const char *out = getenv("TLS_COUNTS");
  FILE *f;
  if (out && full + resumed > 0 && (f = fopen(out, "a"))) {
    fprintf(f, "%ld %ld\n", full, resumed);
    fclose(f);
  }
}
C
cc -O2 -shared -fPIC -o "$WORK/tlscount.so" "$WORK/tlscount.c" -ldl

# Configs: the passthrough ones with TLS on the listener.
sed "s#__DIR__#$WORK#" bench/peers/backend-nginx.conf > "$WORK/backend-nginx.conf"
sed -e "s#__DIR__#$WORK#" -e "s#listen 127.0.0.1:18081;#listen 127.0.0.1:18091 ssl;\n\
    ssl_certificate $WORK/cert.pem;\n    ssl_certificate_key $WORK/key.pem;\n\
    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_session_tickets on;\n\
    ssl_session_cache shared:SSL:10m;#" bench/peers/proxy-nginx.conf > "$WORK/proxy-nginx.conf"
sed "s#bind 127.0.0.1:18082#bind 127.0.0.1:18092 ssl crt $WORK/haproxy.pem#" \
  bench/peers/proxy-haproxy.cfg > "$WORK/haproxy.cfg"
sed "s#listen: { http: 127.0.0.1:18083 }#listen: { http: 127.0.0.1:18093, https: 127.0.0.1:18094 }\n\
  tls:\n    certificates:\n\
      - { hostnames: [localhost], cert: $WORK/cert.pem, key: $WORK/key.pem }#" \
  bench/peers/tollgate.yaml > "$WORK/tollgate.yaml"
taskset -c 1 "$NGINX" -c "$WORK/backend-nginx.conf" -p "$WORK" &
sleep 0.5

start_proxy() { bench_start_tls_proxy "$1"; }
port_of() { case $1 in nginx) echo 18091;; haproxy) echo 18092;; tollgate) echo 18094;; esac; }

# Ready (answers https within 10 s), serves our certificate for localhost over TLS 1.3
# with ECDSA, proxies to the backend, and does not answer plain http on that port.
check_proxy() {
  local proxy=$1 pid=$2 port=$3 body hs
  bench_wait_https "$proxy" "$pid" "$port" || return 1
  body=$(curl -s --max-time 2 --cacert "$WORK/cert.pem" --resolve "localhost:$port:127.0.0.1" \
    "https://localhost:$port/bench/x") || true
  [ "$body" = "$BODY" ] || { echo "$proxy does not proxy over https (got '$body')"; return 1; }
  body=$(curl -s --max-time 2 "http://127.0.0.1:$port/bench/x") || true
  [ "$body" != "$BODY" ] || { echo "$proxy answers plain http on its TLS port"; return 1; }
  hs=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$port" -servername localhost -brief 2>&1) || true
  echo "$hs" | grep -q "Protocol version: TLSv1.3" && echo "$hs" | grep -q "Signature type: ECDSA" ||
    { echo "$proxy: not TLS 1.3 with ECDSA:"; echo "$hs"; return 1; }
}

# One measured wrk run (lib.sh's measure) with the handshake counter preloaded; the row
# gets the scenario in front and the client's full/resumed handshake counts behind.
run() { # scenario proxy round pid port [TLS_NEW_SESSIONS=1] [wrk args...]
  local scenario=$1 proxy=$2 round=$3 pid=$4 port=$5 new=""
  shift 5
  [ "${1:-}" = TLS_NEW_SESSIONS=1 ] && { new=1; shift; }
  : > "$WORK/m.csv"; rm -f "$WORK/counts"
  ( export LD_PRELOAD="$WORK/tlscount.so" TLS_COUNTS="$WORK/counts"
    [ -z "$new" ] || export TLS_NEW_SESSIONS=1
    measure "$WORK/m.csv" "$proxy" "$round" "$pid" "https://127.0.0.1:$port/bench/x" "$@" )
  local counts
  counts=$(tail -1 "$WORK/counts" 2>/dev/null || echo "0 0")
  echo "$scenario,$(cat "$WORK/m.csv"),${counts/ /,}" >> "$OUT/tls.csv"
}

# TLS_SCENARIOS picks some (the CI gate runs tls-keepalive only).
SCENARIOS=${TLS_SCENARIOS:-tls-keepalive tls-handshake tls-resumed}
wanted() { case " $SCENARIOS " in *" $1 "*) return 0;; *) return 1;; esac; }
echo "scenario,proxy,round,requests,rps,cpu_us_per_req,p50_ms,p99_ms,full_handshakes,resumed_handshakes" > "$OUT/tls.csv"
for round in $(seq 1 "$ROUNDS"); do
  for proxy in $PROXIES; do
    start_proxy $proxy
    pid=$!
    port=$(port_of $proxy)
    check_proxy $proxy $pid $port || exit 1
    ! wanted tls-keepalive || run tls-keepalive $proxy $round $pid $port
    ! wanted tls-handshake || run tls-handshake $proxy $round $pid $port TLS_NEW_SESSIONS=1 -H "Connection: close"
    ! wanted tls-resumed || run tls-resumed $proxy $round $pid $port -H "Connection: close"
    kill $pid; wait $pid 2>/dev/null || true
    sleep 0.3
  done
done

python3 - "$OUT/tls.csv" "$OUT/tls.json" "$SCENARIOS" "$CONNS" $PROXIES <<'PY'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
scenarios, conns, names = sys.argv[3].split(), int(sys.argv[4]), sys.argv[5:]
def stats(v):
    return {"median": statistics.median(v), "min": min(v), "max": max(v)}
res, ratios = {}, {}
for s in scenarios:
    for p in names:
        r = [x for x in rows if x["scenario"] == s and x["proxy"] == p]
        cpu = [float(x["cpu_us_per_req"]) for x in r]
        hs = [int(x["full_handshakes"]) + int(x["resumed_handshakes"]) for x in r]
        # resumed: share of the reconnections (each connection's first handshake is full)
        e = {"cpu_us_per_req": stats(cpu), "rps": stats([float(x["rps"]) for x in r]),
             "p50": [x["p50_ms"] for x in r], "p99": [x["p99_ms"] for x in r],
             "resumed_pct": [100 * int(x["resumed_handshakes"]) / max(h - conns, 1) for x, h in zip(r, hs)]}
        if s != "tls-keepalive":  # one handshake per request
            e["handshakes_per_cpu_s"] = stats([1e6 / c for c in cpu])
        res[f"{s}:{p}"] = e
    if "tollgate" not in names:
        continue
    for peer in [n for n in names if n != "tollgate"]:
        t, o = res[f"{s}:tollgate"], res[f"{s}:{peer}"]
        if s == "tls-keepalive":  # CPU per request: lower is better
            ratios[f"keepalive_tollgate_vs_{peer}"] = t["cpu_us_per_req"]["median"] / o["cpu_us_per_req"]["median"]
        else:  # handshakes per CPU-second: higher is better
            k = s.removeprefix("tls-")
            ratios[f"{k}_tollgate_vs_{peer}"] = t["handshakes_per_cpu_s"]["median"] / o["handshakes_per_cpu_s"]["median"]
res["ratios"] = ratios
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(f"{'scenario':14} {'proxy':9} {'CPU us/req median [min..max]':30} {'per CPU-s median [min..max]':30} {'req/s':>7} {'resumed':>8}  p99 per round")
for s in scenarios:
    for p in names:
        e = res[f"{s}:{p}"]
        c = e["cpu_us_per_req"]
        cs = f"{c['median']:7.2f} [{c['min']:.2f}..{c['max']:.2f}]"
        h = e.get("handshakes_per_cpu_s")
        hs = f"{h['median']:7.0f} [{h['min']:.0f}..{h['max']:.0f}]" if h else ""
        rp = f"{statistics.median(e['resumed_pct']):7.1f}%" if h else ""
        print(f"{s:14} {p:9} {cs:30} {hs:30} {e['rps']['median']:7.0f} {rp:>8}  {' '.join(e['p99'])}")
        if s == "tls-handshake" and max(e["resumed_pct"]) > 1:
            print(f"  warning: {p} resumed some handshakes of tls-handshake")
        if s == "tls-resumed" and min(e["resumed_pct"]) < 99:
            print(f"  warning: {p} did not resume (most) handshakes of tls-resumed")
for k, v in ratios.items():
    note = "  (CPU per request, lower is better)" if k.startswith("keepalive") else "  (handshakes per CPU-second, higher is better)"
    target = "; target >= 1.2" if k == "handshake_tollgate_vs_nginx" else ""
    print(f"ratio {k:34} = {v:.2f}{note}{target}")
PY
