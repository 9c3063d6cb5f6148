#!/usr/bin/env bash
# Instructions executed by two builds of `facegate` on the same command, and their ratio.
#
# Why: on a shared machine a neighbour's load moves CPU times by tens of per cent, more than a
# small change saves. Valgrind's callgrind counts the instructions each build executes, the
# same count on every run, so a change of a fraction of a per cent shows. Two caveats: it is
# work, not time (a division costs more than an addition), and valgrind has no AVX-512, so
# tract runs its AVX2 kernels under it. Report a timed ratio too when the machine is quiet.
#
# usage: benches/instructions.sh OLD_BINARY NEW_BINARY [--top N] -- FACEGATE_ARGS...
#   e.g. benches/instructions.sh /tmp/facegate_old target/release/facegate -- liveness check \
#          --frames ../shared/data/liveness/genuine/webcam_a --fps 15 --challenge left,right --track 7
# needs: valgrind (apt-get install valgrind). Slow: about 6 minutes a build for webcam_a above.
set -euo pipefail
[ $# -ge 3 ] || { sed -n '10,13p' "$0" >&2; exit 2; }
old=$1 new=$2
shift 2
top=0
if [ "${1:-}" = "--top" ]; then top=$2; shift 2; fi
[ "${1:-}" = "--" ] || { echo "expected -- before the facegate arguments" >&2; exit 2; }
shift
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
count() { # BINARY NAME: runs it under callgrind, prints the total instructions
  valgrind --tool=callgrind --callgrind-out-file="$dir/$2.out" "$1" "${@:3}" >/dev/null 2>"$dir/$2.log" || true
  grep -q "Collected" "$dir/$2.log" || { cat "$dir/$2.log" >&2; exit 1; }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$dir/$2.log"
}
a=$(count "$old" old "$@")
b=$(count "$new" new "$@")
echo "old $a instructions ($old)"
echo "new $b instructions ($new)"
awk -v a="$a" -v b="$b" 'BEGIN { printf "new / old %.4f\n", b / a }'
if [ "$top" -gt 0 ]; then
  for which in old new; do
    echo "== $which: the $top functions with the most instructions"
    callgrind_annotate "$dir/$which.out" 2>/dev/null | sed -n '/PROGRAM TOTALS/,$p' |
      grep -E '^ *[0-9,]+ ' | sed -n "2,$((top + 1))p" | cut -c1-150
  done
fi
