#!/usr/bin/env bash
# DuckDB reference engine for sluice-bench:  harness/peers/duckdb/run.sh <run_dir>/peer-spec.json
#
# Installs @duckdb/node-api on first use (npm ci, pinned by package-lock.json), then runs
# run.mjs, which writes <run_dir>/duckdb-<scenario>-batch-t<threads>.json and
# <run_dir>/peer-status.json. When node/npm is missing, the install fails (e.g. offline) or
# the run fails, it writes peer-status.json with "status": "unavailable" and the reason, and
# exits 0: the benchmark goes on without the peer.
set -euo pipefail

if [[ $# -ne 1 ]]; then
  echo "usage: $0 <run_dir>/peer-spec.json" >&2
  exit 2
fi
if [[ ! -f "$1" ]]; then
  echo "duckdb peer: no spec file $1" >&2
  exit 2
fi
spec_dir=$(cd "$(dirname "$1")" && pwd)
spec="$spec_dir/$(basename "$1")"
status_file="$spec_dir/peer-status.json"

cd "$(dirname "${BASH_SOURCE[0]}")"

INSTALL_TIMEOUT=${SLUICE_PEER_INSTALL_TIMEOUT:-120}
PINNED_VERSION=1.5.6-r.1

json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\t'/ }
  s=${s//$'\r'/ }
  s=${s//$'\n'/ }
  # drop any other control characters
  s=$(printf '%s' "$s" | tr -d '\000-\037')
  printf '%s' "$s"
}

unavailable() {
  local reason
  reason=$(json_escape "$1")
  printf '{"engine": "duckdb", "status": "unavailable", "reason": "%s"}\n' "$reason" >"$status_file"
  echo "duckdb peer: unavailable: $1" >&2
  exit 0
}

# Last non-empty line of a log, trimmed.
last_line() {
  grep -v '^[[:space:]]*$' "$1" 2>/dev/null | tail -n 1 |
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' | cut -c1-300 || true
}

# npm's error in one line: "code EXXX: <last line of the message>", skipping stack frames,
# object dumps and the generic hints npm prints at the end.
npm_error() {
  local code message
  code=$(grep -m1 -o 'npm error code [[:alnum:]_]*' "$1" 2>/dev/null | sed 's/^npm error //' || true)
  message=$(grep '^npm error' "$1" 2>/dev/null |
    grep -v -E '^npm error[[:space:]]*$|^npm error[[:space:]]+at |^npm error[[:space:]]+[[:lower:]]+: |[{}],?$|^npm error (code|syscall|errno) |A complete log of this run|behind a proxy|npm help' |
    tail -n 1 | sed -e 's/^npm error[[:space:]]*//' -e 's/[[:space:]]*$//' | cut -c1-300 || true)
  [[ -n "$message" ]] || message=$(last_line "$1")
  printf '%s' "${code:+$code: }$message"
}

command -v node >/dev/null 2>&1 || unavailable "node is not installed (needs Node.js >= 18)"
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [[ ! "$node_major" =~ ^[0-9]+$ ]] || ((node_major < 18)); then
  unavailable "node $(node --version 2>/dev/null || echo '?') is too old (needs Node.js >= 18)"
fi

log=$(mktemp "${TMPDIR:-/tmp}/sluice-duckdb-peer.XXXXXX")
trap 'rm -f "$log"' EXIT

# Version of the installed @duckdb/node-api, empty unless it loads (native binding included).
installed_version() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    await import("@duckdb/node-api");
    console.log(JSON.parse(readFileSync("node_modules/@duckdb/node-api/package.json", "utf8")).version);
  ' 2>/dev/null || true
}

if [[ "$(installed_version)" != "$PINNED_VERSION" ]]; then
  command -v npm >/dev/null 2>&1 || unavailable "npm is not installed (needed once to install @duckdb/node-api $PINNED_VERSION)"
  echo "duckdb peer: installing @duckdb/node-api $PINNED_VERSION (npm ci, timeout ${INSTALL_TIMEOUT}s)" >&2
  rc=0
  timeout "$INSTALL_TIMEOUT" npm ci --no-audit --no-fund >"$log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "duckdb peer: npm ci failed (status $rc: $(npm_error "$log")); trying npm install" >&2
    rc=0
    timeout "$INSTALL_TIMEOUT" npm install --no-audit --no-fund --no-save >"$log" 2>&1 || rc=$?
    if [[ $rc -ne 0 ]]; then
      error=$(npm_error "$log")
      [[ $rc -eq 124 ]] && error="timed out after ${INSTALL_TIMEOUT}s${error:+; $error}"
      unavailable "npm could not install @duckdb/node-api $PINNED_VERSION: ${error:-no output}"
    fi
  fi
  if [[ "$(installed_version)" != "$PINNED_VERSION" ]]; then
    unavailable "npm finished but @duckdb/node-api $PINNED_VERSION is not in node_modules: $(last_line "$log")"
  fi
fi

# Progress lines go to stderr and into the log (for the reason, if node fails).
set +e
node run.mjs "$spec" 2>&1 | tee "$log" >&2
rc=${PIPESTATUS[0]}
set -e
if [[ $rc -ne 0 ]]; then
  unavailable "node run.mjs exited with status $rc: $(last_line "$log")"
fi
