#!/usr/bin/env bash
# Runs the optimizer benchmark measurements one after another (one solver per core):
#   solomon  Solomon VRPTW, 10 s per run, PyVRP and VROOM
#   lilim    Li & Lim PDPTW 100, 10 s, both engines
#   gh200    Gehring & Homberger 200, 30 s, both engines
#   ortec60  ORTEC qualification, 60 s, both engines
#   ortec600 ORTEC qualification, 600 s, PyVRP (the reference for the 60 s gap)
#   solomon-pyvrp, lilim-pyvrp, ortec600-vroom: single-engine repeats
# Usage: benchmarks/optimize_suites.sh [JOBS] [suite ...]   (default: all, JOBS=2)
# Results (CSV + logs) go to benchmarks/results/; print the tables with
#   .venv/bin/python benchmarks/optimize_report.py
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DOORSTEP_BENCHMARKS_DIR:-../shared/benchmarks}"
OUT=benchmarks/results
JOBS="${1:-2}"
shift || true
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(solomon lilim gh200 ortec60 ortec600)
mkdir -p "$OUT"

run() {  # name folder time-limit engines
  echo "== $1: $2, $3 s, $4 ($(date -u +%H:%M:%S))"
  .venv/bin/python -m doorstep.cli.bench suite "$2" --time-limit "$3" --engines "$4" \
    --jobs "$JOBS" --seed 1 --csv "$OUT/$1.csv" > "$OUT/$1.log" 2>&1
  tail -n 8 "$OUT/$1.log"
}

for suite in "${SUITES[@]}"; do
  case "$suite" in
    solomon)  run solomon  "$DATA/solomon" 10 pyvrp,vroom ;;
    lilim)    run lilim    "$DATA/li_lim/pdp_100" 10 pyvrp,vroom ;;
    gh200)    run gh200    "$DATA/gehring_homberger/GH200" 30 pyvrp,vroom ;;
    ortec60)  run ortec60  "$DATA/ortec/qualification" 60 pyvrp,vroom ;;
    ortec600) run ortec600 "$DATA/ortec/qualification" 600 pyvrp ;;
    ortec600-vroom) run ortec600-vroom "$DATA/ortec/qualification" 600 vroom ;;
    solomon-pyvrp) run solomon-pyvrp "$DATA/solomon" 10 pyvrp ;;
    lilim-pyvrp)   run lilim-pyvrp   "$DATA/li_lim/pdp_100" 10 pyvrp ;;
    gh200-pyvrp)   run gh200-pyvrp   "$DATA/gehring_homberger/GH200" 30 pyvrp ;;
    *) echo "unknown suite $suite" >&2; exit 2 ;;
  esac
done
