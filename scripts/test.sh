#!/usr/bin/env bash
# The one command that runs every test: installs what the tests need when it is missing
# (Debian packages via apt: curl, openssl, nghttp2-client, python3-grpcio, redis-server;
# nginx, haproxy and wrk for the latency gate), runs the unit, conformance and
# integration tests of the whole workspace, then the latency gate (bench/gate.sh:
# Tollgate's CPU per request against nginx and HAProxy, passthrough, identity and TLS
# keep-alive, measured side by side; TOLLGATE_SKIP_BENCH_GATE=1 skips it). CI (.ci/run)
# runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
# proxy/tests/tls.rs checks resumption with a real `openssl s_client`.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# proxy/tests/h2.rs loads the gateway with h2load; proxy/tests/grpc.rs runs a real
# gRPC server and client (grpcio).
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
/usr/bin/python3 -c "import grpc" >/dev/null 2>&1 || need+=(python3-grpcio)
# proxy/tests/redis.rs runs gateways sharing limits through a real Redis.
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test dependencies: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Tests use both the io_uring and the epoll driver themselves (TOLLGATE_DRIVER per test).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --locked 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
[ "$status" -eq 0 ] || exit "$status"
if [ "${TOLLGATE_SKIP_BENCH_GATE:-0}" != 1 ]; then
  bash bench/gate.sh
fi
