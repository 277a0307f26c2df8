#!/usr/bin/env bash
# The one command that runs every test: installs what the tests need when it is missing
# (Debian packages via apt), then runs the unit, conformance and integration tests of the
# whole workspace. CI (.ci/run) runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v curl >/dev/null 2>&1 || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test dependencies: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Tests use both the io_uring and the epoll driver themselves (TOLLGATE_DRIVER per test).
cargo test --workspace --locked 2>&1
