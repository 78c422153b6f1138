#!/usr/bin/env bash
# The pre-commit hook (.pre-commit-hooks.yaml): `iamtrim review` of the templates being
# committed, against the activity IAMTRIM_LOGS (paths) or IAMTRIM_SOURCE names, with the hook's
# args. Templates iamtrim does not read (no Resources, no planned_values) are left alone. Fails
# (exit 1) when the review finds something; prints the review.
set -euo pipefail
iamtrim="${IAMTRIM_BIN:-iamtrim}"
args=() templates=()
while [ $# -gt 0 ]; do
  case "$1" in
    --*) args+=("$1"); if [ $# -gt 1 ] && [[ "$2" != --* ]] && [ ! -f "$2" ]; then args+=("$2"); shift; fi ;;
    *) if grep -qE '^(Resources:|[[:space:]]*"(Resources|planned_values)"[[:space:]]*:)' "$1" 2>/dev/null; then templates+=(--template "$1"); fi ;;
  esac
  shift
done
[ ${#templates[@]} -eq 0 ] && exit 0
if [ -n "${IAMTRIM_SOURCE:-}" ]; then where=(--source "$IAMTRIM_SOURCE"); else read -r -a logs <<< "${IAMTRIM_LOGS:?set IAMTRIM_LOGS (CloudTrail files) or IAMTRIM_SOURCE}"; where=(--logs "${logs[@]}"); fi
code=0
"$iamtrim" review "${templates[@]}" "${where[@]}" "${args[@]}" || code=$?
case "$code" in
  0) exit 0 ;;
  3) echo "iamtrim review found grants to trim or calls that would break (above)" >&2; exit 1 ;;
  *) exit 1 ;;
esac
