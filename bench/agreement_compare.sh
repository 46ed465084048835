#!/usr/bin/env bash
# Times `rqs agreement` against reference implementations on the issue's two
# benchmark files, checks that the figures agree, and checks that memory grows
# linearly with the number of ratings.
#
#   bench/agreement_compare.sh BUILD_DIR [WORK_DIR]
#
# BUILD_DIR is an existing build (this script builds nothing; it runs
# BUILD_DIR/client/rqs). WORK_DIR (default BUILD_DIR/agreement-compare) receives
# the generated files, every program's JSON output and timing logs.
#
# Files (bench/gen_ratings.py, deterministic):
#   A: 100,000 studies x 5 raters x 1 criterion    (500,000 ratings)
#   B: 2,000 studies x 3 raters x 42 criteria      (252,000 ratings)
# Runs, each a whole process timed by /usr/bin/time (wall, CPU, max RSS); with
# hyperfine installed, rqs runs are also timed over several runs:
#   rqs agreement A;  rqs agreement B;  rqs agreement --bootstrap 1000 B
#   statsmodels (Fleiss' kappa) on A and B: bench/reference_statsmodels.py
#   R psych ICC() on A and B: bench/reference_psych.R
# Targets (2-core machine): rqs under 2 s wall on A, and on B with --bootstrap 1000.
# Needs python3, /usr/bin/time (Debian 'time'), and for the references Debian's
# python3-statsmodels and r-cran-psych (deploy/install-deps.sh installs them when
# RQS_WITH_REFERENCE_TOOLS=1); a missing reference is skipped with a note.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=$(cd "$1" && pwd)
rqs="$build/client/rqs"
work=${2:-"$build/agreement-compare"}
bootstrap=${RQS_COMPARE_BOOTSTRAP:-1000}
seed=${RQS_COMPARE_SEED:-20240229}
if [[ ! -x $rqs ]]; then
  echo "agreement_compare: $rqs not found; build first (cmake --build $1)" >&2
  exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
  echo "agreement_compare: /usr/bin/time missing (apt-get install time)" >&2
  exit 2
fi
mkdir -p "$work"
# Debian's interpreter: it is the one that sees python3-statsmodels.
python=/usr/bin/python3
[[ -x $python ]] || python=python3

echo "== generating files in $work"
"$python" "$here/gen_ratings.py" "$work"
file_a="$work/ratings_100000x5x1.csv"
file_b="$work/ratings_2000x3x42.csv"

have_statsmodels=0
"$python" -c 'import statsmodels' 2>/dev/null && have_statsmodels=1
have_psych=0
command -v Rscript >/dev/null && Rscript -e 'quit(status = !requireNamespace("psych", quietly = TRUE))' \
  >/dev/null 2>&1 && have_psych=1

rows=()
# measure LABEL TOOL OUT_JSON COMMAND...: runs COMMAND once under /usr/bin/time,
# stdout to OUT_JSON, and records wall, user+sys CPU and max RSS.
measure() {
  local label=$1 tool=$2 out=$3
  shift 3
  local log="$out.time"
  if ! /usr/bin/time -f '%e %U %S %M' -o "$log" "$@" >"$out" 2>"$out.err"; then
    echo "agreement_compare: '$*' failed:" >&2
    cat "$out.err" >&2
    exit 1
  fi
  local wall user sys rss
  read -r wall user sys rss <"$log"
  rows+=("$(printf '%-34s %-24s %8.2f %8.2f %10.1f' "$label" "$tool" "$wall" \
    "$(echo "$user + $sys" | bc)" "$(echo "scale=1; $rss / 1024" | bc)")")
}

echo "== timing"
measure "A 100000x5x1" "rqs agreement" "$work/rqs_a.json" "$rqs" agreement "$file_a"
measure "B 2000x3x42" "rqs agreement" "$work/rqs_b.json" "$rqs" agreement "$file_b"
measure "B 2000x3x42 --bootstrap $bootstrap" "rqs agreement" "$work/rqs_b_boot.json" \
  "$rqs" agreement --bootstrap "$bootstrap" --seed "$seed" "$file_b"
if ((have_statsmodels)); then
  measure "A 100000x5x1" "statsmodels fleiss_kappa" "$work/statsmodels_a.json" \
    "$python" "$here/reference_statsmodels.py" "$file_a"
  measure "B 2000x3x42" "statsmodels fleiss_kappa" "$work/statsmodels_b.json" \
    "$python" "$here/reference_statsmodels.py" "$file_b"
else
  echo "note: statsmodels not importable by $python; skipped (apt-get install python3-statsmodels)"
fi
if ((have_psych)); then
  measure "A 100000x5x1" "R psych ICC (lmer)" "$work/psych_a.json" \
    Rscript "$here/reference_psych.R" "$file_a"
  measure "B 2000x3x42" "R psych ICC (lmer)" "$work/psych_b.json" \
    Rscript "$here/reference_psych.R" "$file_b"
else
  echo "note: R psych not installed; skipped (apt-get install r-cran-psych)"
fi

echo
printf '%-34s %-24s %8s %8s %10s\n' "file" "program (whole process)" "wall s" "CPU s" "maxRSS MB"
printf '%s\n' "${rows[@]}"
echo "(machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); targets: rqs < 2 s wall)"

if command -v hyperfine >/dev/null; then
  echo
  echo "== hyperfine (rqs only; references run once above)"
  hyperfine --warmup 1 --min-runs 5 --style basic --export-markdown "$work/hyperfine.md" \
    -n "rqs A" "$rqs agreement $file_a" \
    -n "rqs B" "$rqs agreement $file_b" \
    -n "rqs B --bootstrap $bootstrap" "$rqs agreement --bootstrap $bootstrap --seed $seed $file_b" \
    >"$work/hyperfine.log" 2>&1 || { cat "$work/hyperfine.log"; exit 1; }
  cat "$work/hyperfine.md"
fi

echo
echo "== memory vs ratings (prefixes of file A, whole studies)"
printf '%10s %12s %14s\n' "ratings" "maxRSS MB" "bytes/rating"
baseline_kb=$(/usr/bin/time -f '%M' "$rqs" --help 2>&1 >/dev/null | tail -1)
for studies in 12500 25000 50000 100000; do
  ratings=$((studies * 5))
  prefix="$work/prefix_$studies.csv"
  head -n $((ratings + 1)) "$file_a" >"$prefix"
  rss_kb=$(/usr/bin/time -f '%M' "$rqs" agreement "$prefix" 2>&1 >/dev/null | tail -1)
  printf '%10d %12.1f %14.0f\n' "$ratings" "$(echo "scale=1; $rss_kb / 1024" | bc)" \
    "$(echo "($rss_kb - $baseline_kb) * 1024 / $ratings" | bc)"
  rm -f "$prefix"
done
echo "(bytes/rating = (maxRSS - maxRSS of 'rqs --help') / ratings; linear growth keeps it flat)"

status=0
if ((have_statsmodels || have_psych)); then
  echo
  echo "== cross-check: rqs vs references (same files)"
  for f in a b; do
    args=("$work/rqs_$f.json")
    ((have_statsmodels)) && args+=(--statsmodels "$work/statsmodels_$f.json")
    ((have_psych)) && args+=(--psych "$work/psych_$f.json")
    echo "-- file ${f^^}"
    "$python" "$here/agreement_crosscheck.py" "${args[@]}" || status=1
  done
  if ((have_psych)); then
    # psych's lmer path matches the ANOVA only to optimiser tolerance; its exact
    # ANOVA path (lmer = FALSE) is feasible on the first 300 studies of B.
    subset="$work/ratings_300x3x42.csv"
    head -n $((300 * 3 * 42 + 1)) "$file_b" >"$subset"
    "$rqs" agreement "$subset" >"$work/rqs_subset.json"
    Rscript "$here/reference_psych.R" --anova "$subset" >"$work/psych_subset.json"
    echo "-- first 300 studies of B, psych ICC(lmer = FALSE) (exact ANOVA)"
    "$python" "$here/agreement_crosscheck.py" "$work/rqs_subset.json" \
      --psych "$work/psych_subset.json" || status=1
  fi
fi
exit $status
