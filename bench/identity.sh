#!/usr/bin/env bash
# Identity benchmark: a protected API, Tollgate vs HAProxy 2.6, side by side in one run.
#
# Every request carries the same valid RS256 token and a subscription (API) key.
#   tollgate          validate-jwt (RS256, audience, issuer, exp) + subscription key
#                     (product context) + rate-limit per subscription + 2 headers
#                     (set-header, delete Authorization)
#   haproxy           jwt_verify RS256 + aud/iss/exp checks + API-key map + per-key
#                     rate limit (stick table) + 2 headers
#   tollgate-no-rl    Tollgate without its rate limit (the difference is what the
#                     rate limit costs)
#   haproxy-no-rl     HAProxy without its rate limit
# Each proxy runs one worker pinned to CPU 0 in front of the passthrough benchmark's
# nginx backend (CPU 1); wrk with 64 keep-alive connections runs on CPU 1. The figure is
# CPU µs per request of the proxy process, median [min..max] over ROUNDS rounds.
#
#   bench/identity.sh                 # 3 rounds x 10 s
#   ROUNDS=1 DURATION=5 bench/identity.sh
#
# Output: a table on stdout and bench/results/identity.json.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
. bench/lib.sh
bench_setup
cargo build --release -q -p tollgate-jwt --features sign --example jwt-sign
SIGN=target/release/examples/jwt-sign

KEY=core/jwt/tests/keys/rsa2048-a.pem
cp core/jwt/tests/keys/rsa2048-a.pub.pem "$WORK/jwt.pub.pem"
EXP=$(( $(date +%s) + 86400 ))
TOKEN=$("$SIGN" token RS256 "$KEY" bench "{\"iss\":\"https://idp.bench/\",\"aud\":\"api://bench\",\"sub\":\"alice\",\"exp\":$EXP}")
BAD=$("$SIGN" token RS256 core/jwt/tests/keys/rsa2048-b.pem bench "{\"iss\":\"https://idp.bench/\",\"aud\":\"api://bench\",\"sub\":\"alice\",\"exp\":$EXP}")
read -r N E < <("$SIGN" ne "$KEY")
APIKEY=bench-key-0123456789abcdef
echo "$APIKEY bench-app" > "$WORK/keys.map"

cat > "$WORK/tollgate.yaml" <<YAML
gateway:
  shards: 1
  listen: { http: 127.0.0.1:18086 }
apis:
  - id: bench
    path: bench
    service-url: http://127.0.0.1:18080
    policy: |
      <policies><inbound><base/>
        <validate-jwt header-name="Authorization">
          <issuer-signing-keys><key id="bench" n="$N" e="$E"/></issuer-signing-keys>
          <audiences><audience>api://bench</audience></audiences>
          <issuers><issuer>https://idp.bench/</issuer></issuers>
        </validate-jwt>
        <rate-limit calls="1000000000" renewal-period="60"/>
        <set-header name="X-Caller" exists-action="override"><value>@(context.Subscription.Id)</value></set-header>
        <set-header name="Authorization" exists-action="delete"/>
      </inbound><backend><base/></backend><outbound><base/></outbound></policies>
    operations:
      - { id: get, method: GET, url-template: "/*" }
products:
  - { id: bench-product, apis: [bench] }
subscriptions:
  - { id: bench-app, scope: product/bench-product, primary-key: { value: $APIKEY } }
YAML
sed -e 's#127.0.0.1:18086#127.0.0.1:18089#' -e '/<rate-limit /d' "$WORK/tollgate.yaml" > "$WORK/tollgate-no-rl.yaml"
RL='  http-request track-sc0 req.hdr(Ocp-Apim-Subscription-Key)
  http-request deny deny_status 429 if { sc_http_req_rate(0) gt 1000000000 }'
for v in haproxy haproxy-no-rl; do
  port=18087; rl="$RL"
  [ $v = haproxy-no-rl ] && { port=18088; rl=""; }
  python3 - "$WORK" "$port" "$rl" > "$WORK/$v.cfg" <<'PY'
import sys
work, port, rl = sys.argv[1:4]
t = open("bench/peers/identity-haproxy.cfg").read()
print(t.replace("__DIR__", work).replace("__PORT__", port).replace("__RL__", rl))
PY
done
sed "s#__DIR__#$WORK#" bench/peers/backend-nginx.conf > "$WORK/backend-nginx.conf"
taskset -c 1 "$NGINX" -c "$WORK/backend-nginx.conf" -p "$WORK" &
sleep 0.5

start_proxy() {
  case $1 in
    tollgate|tollgate-no-rl) TOLLGATE_LOG=warn taskset -c 0 "$TOLLGATE" run --config "$WORK/$1.yaml" & ;;
    haproxy|haproxy-no-rl) taskset -c 0 "$HAPROXY" -f "$WORK/$1.cfg" & ;;
  esac
  sleep 0.7
}
port_of() { case $1 in tollgate) echo 18086;; haproxy) echo 18087;; haproxy-no-rl) echo 18088;; tollgate-no-rl) echo 18089;; esac; }
PROXIES="tollgate haproxy tollgate-no-rl haproxy-no-rl"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
echo "proxy,round,requests,rps,cpu_us_per_req,p50_ms,p99_ms" > "$OUT/identity.csv"
for round in $(seq 1 "$ROUNDS"); do
  for proxy in $PROXIES; do
    start_proxy $proxy
    pid=$!
    url="http://127.0.0.1:$(port_of $proxy)/bench/x"
    # It must really check before it is measured.
    ok=$(status -H "Authorization: Bearer $TOKEN" -H "Ocp-Apim-Subscription-Key: $APIKEY" "$url")
    bad_sig=$(status -H "Authorization: Bearer $BAD" -H "Ocp-Apim-Subscription-Key: $APIKEY" "$url")
    no_key=$(status -H "Authorization: Bearer $TOKEN" "$url")
    no_jwt=$(status -H "Ocp-Apim-Subscription-Key: $APIKEY" "$url")
    if [ "$ok $bad_sig $no_key $no_jwt" != "200 401 401 401" ]; then
      echo "$proxy does not check as it should: good=$ok bad-signature=$bad_sig no-key=$no_key no-token=$no_jwt"; exit 1
    fi
    hdr=(-H "Authorization: Bearer $TOKEN" -H "Ocp-Apim-Subscription-Key: $APIKEY")
    measure "$OUT/identity.csv" $proxy $round $pid "$url" "${hdr[@]}"
    kill $pid; wait $pid 2>/dev/null || true
    sleep 0.3
  done
done

python3 - "$OUT/identity.csv" "$OUT/identity.json" $PROXIES <<'PY'
import csv, json, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = sys.argv[3:]
res = {}
for p in names:
    r = [x for x in rows if x["proxy"] == p]
    cpu = [float(x["cpu_us_per_req"]) for x in r]
    rps = [float(x["rps"]) for x in r]
    res[p] = {"cpu_us_per_req": {"median": statistics.median(cpu), "min": min(cpu), "max": max(cpu)},
              "rps": {"median": statistics.median(rps), "min": min(rps), "max": max(rps)},
              "p50": [x["p50_ms"] for x in r], "p99": [x["p99_ms"] for x in r]}
t = res["tollgate"]["cpu_us_per_req"]["median"]
res["ratios"] = {"tollgate_vs_haproxy": t / res["haproxy"]["cpu_us_per_req"]["median"],
                 "tollgate_no_rl_vs_haproxy_no_rl": res["tollgate-no-rl"]["cpu_us_per_req"]["median"] / res["haproxy-no-rl"]["cpu_us_per_req"]["median"]}
res["rate_limit_cost_us"] = t - res["tollgate-no-rl"]["cpu_us_per_req"]["median"]
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(f"{'proxy':14} {'CPU us/req median [min..max]':30} {'req/s median':>12}  p99 per round")
for p in names:
    c = res[p]["cpu_us_per_req"]
    print(f"{p:14} {c['median']:6.2f} [{c['min']:.2f}..{c['max']:.2f}]{'':12} {res[p]['rps']['median']:12.0f}  {' '.join(res[p]['p99'])}")
print(f"ratio tollgate/haproxy (both with a rate limit) = {res['ratios']['tollgate_vs_haproxy']:.2f}")
print(f"ratio without the rate limits                   = {res['ratios']['tollgate_no_rl_vs_haproxy_no_rl']:.2f}")
print(f"Tollgate's rate limit costs {res['rate_limit_cost_us']:.2f} us of CPU per request (median difference)")
PY
