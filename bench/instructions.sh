#!/usr/bin/env bash
# Instructions per iteration of the request path's hot pieces, counted by callgrind
# (valgrind): stable where times are not, so CI can hold them to stored baselines.
# Each piece runs twice (N1 and N2 iterations) and the difference is divided by N2-N1,
# which leaves setup out. A count above its baseline in bench/instructions.toml by more
# than the tolerance fails; UPDATE=1 writes the measured counts as the new baselines.
#
#   bench/instructions.sh
#   UPDATE=1 bench/instructions.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v valgrind >/dev/null; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq valgrind >/dev/null
fi
cargo build --release -q -p tollgate --example hot_paths
BIN=target/release/examples/hot_paths
N1=200
N2=2200
count() { # piece iterations → instructions of the whole run
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$BIN" "$1" "$2" 2>&1 \
    | awk '/Collected :/ {print $NF}'
}
results=""
for piece in head_parse route_lookup key_lookup policy_pipeline rate_limit jwt_hs256; do
  a=$(count "$piece" $N1)
  b=$(count "$piece" $N2)
  results="$results$piece $(( (b - a) / (N2 - N1) ))"$'\n'
done
python3 - "${UPDATE:-0}" <<PY
import sys, tomllib
update = sys.argv[1] == "1"
measured = dict(line.split() for line in """$results""".strip().splitlines())
measured = {k: int(v) for k, v in measured.items()}
path = "bench/instructions.toml"
if update:
    lines = ["# Instructions per iteration of the hot paths (bench/instructions.sh, callgrind,",
             "# release build). Raised only on purpose: UPDATE=1 bench/instructions.sh.",
             "tolerance = 0.10", "", "[baseline]"]
    lines += [f"{k} = {v}" for k, v in measured.items()]
    open(path, "w").write("\n".join(lines) + "\n")
    print(f"baselines written to {path}")
base = tomllib.load(open(path, "rb"))
tol = base["tolerance"]
failed = False
for k, v in measured.items():
    b = base["baseline"].get(k)
    if b is None:
        print(f"{k:16} {v:8d} instructions/iteration (no baseline)")
        continue
    ok = v <= b * (1 + tol)
    failed |= not ok
    print(f"{k:16} {v:8d} instructions/iteration (baseline {b}, {(v - b) / b:+.1%}) {'ok' if ok else 'ABOVE'}")
print("instruction counts: " + ("FAILED" if failed else "passed"))
sys.exit(1 if failed else 0)
PY
