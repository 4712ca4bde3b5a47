# shellcheck shell=bash
# Sourced by .ci/run. `phase [--not-counted] <name> <command...>` runs one phase of CI,
# its output shown as it comes and kept. When CI ends, passed or not, a table gives each
# phase's time, status and the tests it counted, then one closing line adds them up
# (--not-counted: tests run again elsewhere, such as the unit tier as a normal user).
# The first phase that fails ends the run.
ci_logs=$(mktemp -d)
ci_started=$SECONDS
ci_rows=()
ci_passed=0
ci_failed=0

phase() {
  local counted=1 name started=$SECONDS status
  if [ "$1" = --not-counted ]; then counted=0 && shift; fi
  name=$1
  shift
  echo "== $name"
  set +e
  "$@" 2>&1 | tee "$ci_logs/phase.log"
  status=${PIPESTATUS[0]}
  set -e
  phase_counts "$ci_logs/phase.log" || true # (set -e is off inside: a grep that finds nothing is no failure)
  ci_rows+=("$(printf '%-22s %5d s  %-12s %s' "$name" $((SECONDS - started)) "$([ "$status" = 0 ] && echo passed || echo "FAILED ($status)")" "$ci_summary")")
  [ "$status" = 0 ] || exit "$status"
}

# What a phase's output counted, in $ci_summary, and added to the totals unless
# $counted (phase's) is 0: vitest's "Tests" line, or test:vm's lines (its suite, the
# matrix's cells, the limits' ok and FAIL lines).
phase_counts() {
  local text passed failed cells ok bad
  ci_summary=''
  text=$(sed 's/\x1b\[[0-9;]*m//g' "$1")
  if grep -qE '^test:vm: .*The suite: ' <<<"$text"; then
    passed=$(grep -oE 'The suite: [0-9]+ passed' <<<"$text" | grep -oE '[0-9]+' | tail -1)
    failed=$(grep -oE 'The suite: [0-9]+ passed, [0-9]+ failed' <<<"$text" | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' | tail -1)
    cells=$(grep -oE '^[0-9]+ cells: [0-9]+ as expected, [0-9]+ not' <<<"$text" | tail -1)
    ok=$(grep -cE '^ok  ' <<<"$text")
    bad=$(grep -cE '^FAIL  ' <<<"$text")
    ci_summary="suite $passed passed, $failed failed; matrix: ${cells:-did not run}; limits: $ok ok, $bad failed"
    ci_count "$passed" "$failed"
    [ -z "$cells" ] || ci_count "$(cut -d' ' -f3 <<<"$cells")" "$(cut -d' ' -f6 <<<"$cells")"
    ci_count "$ok" "$bad"
    return
  fi
  text=$(grep -E '^\s*Tests\s+.*\([0-9]+\)' <<<"$text" | tail -1)
  [ -n "$text" ] || return 0
  passed=$(grep -oE '[0-9]+ passed' <<<"$text" | grep -oE '[0-9]+')
  failed=$(grep -oE '[0-9]+ failed' <<<"$text" | grep -oE '[0-9]+')
  ci_summary=$(sed -E 's/^\s*Tests\s+//' <<<"$text")
  # a run that failed with no test failed (a file that could not load, say) counts one
  [ "$status" = 0 ] || [ -n "$failed" ] || failed=1
  [ "$counted" = 0 ] || ci_count "${passed:-0}" "${failed:-0}"
}

ci_count() {
  ci_passed=$((ci_passed + ${1:-0}))
  ci_failed=$((ci_failed + ${2:-0}))
}

ci_report() {
  local status=$?
  echo
  echo "== CI: $((SECONDS - ci_started)) s in all, status $status"
  printf '%-22s %7s  %-12s %s\n' phase time status tests
  printf '%s\n' "${ci_rows[@]}"
  echo "tests: $ci_passed passed, $ci_failed failed"
  rm -rf "$ci_logs"
  exit "$status"
}
trap ci_report EXIT
