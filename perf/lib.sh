# Shared by the perf/ scripts (source it): a one-shard Tollgate on CPU 0 in front of the
# benchmark's nginx backend on CPU 1, and wrk on CPU 1 to load it.
#
#   perf_setup                  linux-perf, wrk, nginx (apt if missing); release build
#   perf_start [CONFIG]         starts backend + gateway; sets GW (pid) and URL
#   perf_load SECONDS [CONNS]   wrk against URL on CPU 1; sets REQS (requests) and prints
#                               wrk's summary lines
# Knobs: CONFIG (default bench/peers/tollgate.yaml), URL (default its /bench/x).

perf_setup() {
  local need=()
  command -v perf >/dev/null || need+=(linux-perf)
  command -v wrk >/dev/null || need+=(wrk)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
  if [ ${#need[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  systemctl stop nginx 2>/dev/null || true
  cargo build --release -q -p tollgate
  WORK=$(mktemp -d)
  trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
}

perf_start() {
  local config=${1:-${CONFIG:-bench/peers/tollgate.yaml}}
  URL=${URL:-http://127.0.0.1:18083/bench/x}
  sed "s#__DIR__#$WORK#" bench/peers/backend-nginx.conf > "$WORK/backend.conf"
  taskset -c 1 "$(command -v nginx || echo /usr/sbin/nginx)" -c "$WORK/backend.conf" -p "$WORK" &
  TOLLGATE_LOG=warn taskset -c 0 target/release/tollgate run --config "$config" &
  GW=$!
  sleep 0.8
  curl -sf -o /dev/null "$URL" || { echo "the gateway does not answer $URL"; exit 1; }
  taskset -c 1 wrk -t1 -c64 -d1s "$URL" >/dev/null
}

perf_load() {
  local out
  out=$(taskset -c 1 wrk -t1 -c"${2:-64}" -d"$1s" --latency "$URL")
  REQS=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$out" | grep -E "Requests/sec|requests in|^ +99%"
}

# Whether this machine has hardware counters (cycles, instructions).
perf_has_pmu() {
  ! perf stat -e instructions true 2>&1 | grep -q "not supported"
}
