#!/usr/bin/env bash
# `make fuzz`: Schemathesis over the whole OpenAPI document of a real server.
#
# Starts Pithead on a scratch SQLite database with the demo data on a random free port, takes a
# bearer token for the demo admin (who may call every operation), and runs every operation of
# /api/openapi.json with FUZZ_EXAMPLES generated requests each (default 25). It fails on any 5xx
# (not_a_server_error), on any response that contradicts the document (response_schema_
# conformance, status_code_conformance, content_type_conformance). Nothing is excluded: the API
# has no logout or key rotation that would end the run's own token.
# Environment: FUZZ_EXAMPLES, FUZZ_WORKERS (default 2), FUZZ_PYTHON (default .venv/bin/python),
# FUZZ_SEED: a fixed seed by default, so CI's run is reproducible (`st replay` and the same seed
# give the same cases); FUZZ_SEED=random draws a new one (explore locally, then fix what it finds).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${FUZZ_PYTHON:-.venv/bin/python}
BIN=$(cd "$(dirname "$PY")" && pwd)
EXAMPLES=${FUZZ_EXAMPLES:-25}
WORKERS=${FUZZ_WORKERS:-2}
SEED=${FUZZ_SEED:-84583803535026490229780017890592246711}
seed_option=(--seed "$SEED")
[ "$SEED" = random ] && seed_option=()

scratch=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

export PITHEAD_DATABASE_URL="sqlite:///$scratch/fuzz.db"
export PITHEAD_MEDIA_DIR="$scratch/media"
export PITHEAD_SECRET_KEY="fuzz-$(date +%s)-$$"
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

"$BIN/pithead" db upgrade >/dev/null
"$BIN/pithead" demo load >/dev/null
"$BIN/pithead" serve --host 127.0.0.1 --port "$port" >"$scratch/server.log" 2>&1 &
server_pid=$!
healthy() { "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)' \
    "$base/healthz" >/dev/null 2>&1; }
for _ in $(seq 1 60); do
    healthy && break
    sleep 0.5
done
healthy || { echo "fuzz: the server did not start" >&2; cat "$scratch/server.log" >&2; exit 1; }

# The demo admin's token (`pithead demo load` prints the logins; the password is the demo one).
token=$("$PY" - "$base" <<'PY'
import json, sys, urllib.parse, urllib.request
data = urllib.parse.urlencode({"username": "admin", "password": "pithead-demo"}).encode()
with urllib.request.urlopen(sys.argv[1] + "/api/v1/auth/token", data=data, timeout=10) as reply:
    print(json.load(reply)["access_token"])
PY
)

rc=0
# Run from the scratch folder: Schemathesis keeps its cache in ./.schemathesis.
(cd "$scratch" && "$BIN/schemathesis" --no-color run "$base/api/openapi.json" \
    --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
    --max-examples "$EXAMPLES" --workers "$WORKERS" "${seed_option[@]}" --phases examples,coverage,fuzzing \
    --header "Authorization: Bearer $token" --request-timeout 30 \
    --suppress-health-check all --continue-on-failure) || rc=$?
if [ "$rc" -ne 0 ]; then
    echo "fuzz: failures above; the server's log of 5xx tracebacks:" >&2
    grep -A30 "Traceback" "$scratch/server.log" | tail -200 >&2 || true
fi
exit "$rc"
