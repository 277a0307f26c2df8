# Shared by the side-by-side benchmarks (source it): setup, CPU accounting, one measured
# wrk run per proxy and round.
#
#   bench_setup [CMD=PACKAGE...]   results folder, nginx/haproxy/wrk and any CMD given
#                                  (apt if missing), NGINX / HAPROXY paths, release build
#                                  of tollgate (none with SKIP_TOLLGATE=1, for scripts
#                                  that honour it)
#   bench_cert DIR                 a self-signed ECDSA P-256 certificate for localhost /
#                                  127.0.0.1 (2 days): DIR/cert.pem, DIR/key.pem and
#                                  DIR/haproxy.pem (both, for HAProxy's crt)
#   cpu_ticks PID                  utime+stime of PID and its children, in clock ticks
#   measure CSV PROXY ROUND PID URL [wrk args...]
#                                  warm up 1 s, then DURATION s with CONNS connections on
#                                  CPU 1; appends proxy,round,requests,rps,cpu_us,p50,p99

bench_setup() {
  OUT=bench/results
  mkdir -p "$OUT"
  local need=()
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || need+=(haproxy)
  command -v wrk >/dev/null || need+=(wrk)
  local tool
  for tool in "$@"; do
    command -v "${tool%%=*}" >/dev/null || need+=("${tool#*=}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  NGINX=$(command -v nginx || echo /usr/sbin/nginx)
  HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
  systemctl stop nginx haproxy 2>/dev/null || true
  [ "${SKIP_TOLLGATE:-0}" = 1 ] || cargo build --release -q -p tollgate
  TOLLGATE=target/release/tollgate
  HZ=$(getconf CLK_TCK)
}

bench_cert() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$1/key.pem" -out "$1/cert.pem" 2>/dev/null
  cat "$1/cert.pem" "$1/key.pem" > "$1/haproxy.pem"
}

# TLS scenarios (tls.sh, h2.sh): starts proxy $1 (nginx, haproxy or tollgate) on CPU 0
# with its config in $WORK (proxy-nginx.conf, haproxy.cfg, tollgate.yaml), its stderr in
# $WORK/$1.log.
bench_start_tls_proxy() {
  case $1 in
    nginx) taskset -c 0 "$NGINX" -c "$WORK/proxy-nginx.conf" -p "$WORK" 2>"$WORK/$1.log" & ;;
    haproxy) taskset -c 0 "$HAPROXY" -f "$WORK/haproxy.cfg" 2>"$WORK/$1.log" & ;;
    tollgate) TOLLGATE_LOG=warn taskset -c 0 "$TOLLGATE" run --config "$WORK/tollgate.yaml" 2>"$WORK/$1.log" & ;;
  esac
}

# Waits up to 10 s until proxy $1 (pid $2) answers https on port $3; false (with its
# log) when it exits or does not.
bench_wait_https() {
  local proxy=$1 pid=$2 port=$3 i
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { echo "$proxy exited:"; cat "$WORK/$proxy.log"; return 1; }
    curl -sk --max-time 1 -o /dev/null "https://127.0.0.1:$port/" && return 0
    sleep 0.1
  done
  echo "$proxy: no https on $port after 10 s:"; cat "$WORK/$proxy.log"; return 1
}

cpu_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    [ -r /proc/$p/stat ] || continue
    # threads are included in the process' utime/stime
    total=$((total + $(awk '{print $14 + $15}' /proc/$p/stat)))
  done
  echo $total
}

measure() {
  local csv=$1 proxy=$2 round=$3 pid=$4 url=$5
  shift 5
  taskset -c 1 wrk -t1 -c"$CONNS" -d1s "$@" "$url" >/dev/null 2>&1
  local c0 c1 res reqs rps p50 p99 errs cpu_us
  c0=$(cpu_ticks "$pid")
  res=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "$@" "$url")
  c1=$(cpu_ticks "$pid")
  reqs=$(echo "$res" | awk '/requests in/ {print $1}')
  rps=$(echo "$res" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$res" | awk '$1=="50%" {print $2}')
  p99=$(echo "$res" | awk '$1=="99%" {print $2}')
  errs=$(echo "$res" | awk '/Non-2xx|Socket errors/ {print}')
  [ -z "$errs" ] || echo "warning: $proxy: $errs"
  cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v r="$reqs" 'BEGIN {printf "%.2f", d * 1e6 / hz / r}')
  echo "$proxy,$round,$reqs,$rps,$cpu_us,$p50,$p99" >> "$csv"
}
