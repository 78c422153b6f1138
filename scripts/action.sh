#!/usr/bin/env bash
# The steps of the iamtrim GitHub Action (action.yml), runnable anywhere:
#
#   scripts/action.sh install   puts iamtrim on PATH: IAMTRIM_BIN if set, else the released binary
#                               of INPUT_VERSION (default: latest) when one is published, else a
#                               build of this checkout (cargo install --path).
#   scripts/action.sh review    runs `iamtrim review` on INPUT_TEMPLATES (space- or newline-
#                               separated) against INPUT_LOGS (paths) or INPUT_SOURCE, with
#                               INPUT_ARGS; writes INPUT_SARIF (default iamtrim-review.sarif) and
#                               INPUT_MARKDOWN (default iamtrim-review.md), the markdown to
#                               GITHUB_STEP_SUMMARY, and `findings`, `sarif`, `markdown` and
#                               `exit-code` to GITHUB_OUTPUT. Exits 1 when INPUT_FAIL_ON_FINDINGS
#                               is true and the review found something (exit 3), 1 on an error,
#                               0 otherwise.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

bin() {
  if [ -n "${IAMTRIM_BIN:-}" ]; then echo "$IAMTRIM_BIN"; else command -v iamtrim || echo iamtrim; fi
}

install() {
  if [ -n "${IAMTRIM_BIN:-}" ] && [ -x "$IAMTRIM_BIN" ]; then
    echo "iamtrim: using $IAMTRIM_BIN" >&2
    return
  fi
  local version="${INPUT_VERSION:-latest}"
  if [ "$version" != "build" ] && command -v gh >/dev/null 2>&1 && [ -n "${GITHUB_TOKEN:-}" ]; then
    local dir; dir="$(mktemp -d)"
    local tag=(); [ "$version" != "latest" ] && tag=("$version")
    if gh release download "${tag[@]}" --repo "${IAMTRIM_REPOSITORY:-iamtrim/iamtrim}" --pattern 'iamtrim-x86_64-unknown-linux-gnu.tar.gz' --dir "$dir" 2>/dev/null; then
      tar -xzf "$dir"/iamtrim-*.tar.gz -C "$dir"
      install -m 0755 "$dir/iamtrim" /usr/local/bin/iamtrim 2>/dev/null || { mkdir -p "$HOME/.local/bin"; install -m 0755 "$dir/iamtrim" "$HOME/.local/bin/iamtrim"; echo "$HOME/.local/bin" >> "${GITHUB_PATH:-/dev/null}"; }
      echo "iamtrim: installed release ${version}" >&2
      return
    fi
    echo "iamtrim: no released binary for ${version}; building" >&2
  fi
  cargo install --locked --path "$here" --root "$HOME/.iamtrim" >&2
  echo "$HOME/.iamtrim/bin" >> "${GITHUB_PATH:-/dev/null}"
  export PATH="$HOME/.iamtrim/bin:$PATH"
}

review() {
  local iamtrim; iamtrim="$(bin)"
  local sarif="${INPUT_SARIF:-iamtrim-review.sarif}" markdown="${INPUT_MARKDOWN:-iamtrim-review.md}"
  local args=()
  for t in ${INPUT_TEMPLATES:?INPUT_TEMPLATES names the templates to review}; do args+=(--template "$t"); done
  if [ -n "${INPUT_SOURCE:-}" ]; then
    args+=(--source "$INPUT_SOURCE")
  else
    local logs=(); for l in ${INPUT_LOGS:?INPUT_LOGS or INPUT_SOURCE says where the activity is}; do logs+=("$l"); done
    args+=(--logs "${logs[@]}")
  fi
  # shellcheck disable=SC2206
  local extra=(${INPUT_ARGS:-})
  local code=0
  # One run writes both: the activity is read once (and Access Analyzer, with
  # --check-no-new-access, is called once per role).
  "$iamtrim" review "${args[@]}" "${extra[@]}" --format markdown --output "$markdown" --sarif "$sarif" || code=$?
  if [ "$code" -ne 0 ] && [ "$code" -ne 3 ]; then
    echo "iamtrim review failed (exit $code)" >&2
    exit 1
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$markdown" >> "$GITHUB_STEP_SUMMARY"; fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      echo "exit-code=$code"
      echo "findings=$([ "$code" -eq 3 ] && echo true || echo false)"
      echo "sarif=$sarif"
      echo "markdown=$markdown"
    } >> "$GITHUB_OUTPUT"
  fi
  echo "iamtrim review: exit $code; wrote $sarif and $markdown" >&2
  if [ "$code" -eq 3 ] && [ "${INPUT_FAIL_ON_FINDINGS:-false}" = "true" ]; then
    exit 1
  fi
}

case "${1:-}" in
  install) install ;;
  review) review ;;
  *) echo "usage: scripts/action.sh install|review" >&2; exit 2 ;;
esac
