#!/usr/bin/env bash
# Fuzzes the provider API (/api/v1) with schemathesis against the real server on loopback.
#
#   scripts/api-fuzz.sh
#
# Installs schemathesis from PyPI into target/schemathesis-venv when it is missing, builds
# littlepbx, starts `littlepbx serve` on 127.0.0.1 (a free port) with a fresh SQLite database in
# a temporary directory, gets an API key from `littlepbx seed-demo`, and runs schemathesis on
# /api/v1/openapi.json with these checks: no server errors, responses conform to their schemas,
# status codes are documented. Fails on any finding, and when the server log shows the API key.
# Idempotent and self-contained: everything it starts or creates is stopped or removed on exit.
#
# Knobs (environment): FUZZ_EXAMPLES (per operation, default 100), FUZZ_SEED (default 1; set it
# to another number to explore other inputs), FUZZ_WORKERS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-venv
EXAMPLES=${FUZZ_EXAMPLES:-100}
SEED=${FUZZ_SEED:-1}
WORKERS=${FUZZ_WORKERS:-2}

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    echo "==> installing schemathesis $SCHEMATHESIS_VERSION into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

echo "==> building littlepbx" >&2
cargo build --locked --quiet -p littlepbx --bin littlepbx
PWD_ROOT=$PWD
BIN=$PWD_ROOT/target/debug/littlepbx

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lpbx-fuzz.XXXXXX")
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Only what this run sets: no configuration file or database of the caller's leaks in. `exec`
# so that a background call's `$!` is the server itself, which the cleanup stops.
run_littlepbx() {
    exec env -u LITTLEPBX_DATABASE_URL -u LITTLEPBX_CONFIG \
        LITTLEPBX_DATA_DIR="$WORK/data" \
        LITTLEPBX_LISTEN=127.0.0.1:0 \
        LITTLEPBX_LOG=info,sqlx=warn,sea_orm=warn \
        NO_COLOR=1 \
        "$BIN" "$@"
}

echo "==> seeding a fresh database in $WORK" >&2
KEY=$(cd "$WORK" && (run_littlepbx seed-demo) 2>"$WORK/seed.log" \
    | "$PWD_ROOT/$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["api_key"])')

cd "$WORK"
run_littlepbx serve >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
cd "$PWD_ROOT"

PORT=""
for _ in $(seq 1 200); do
    PORT=$(sed 's/\x1b\[[0-9;]*m//g' "$WORK/server.log" | grep -o 'port=[0-9]\+' | head -n 1 | cut -d= -f2 || true)
    [[ -n "$PORT" ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "littlepbx serve exited" >&2; exit 1; }
    sleep 0.05
done
[[ -n "$PORT" ]] || { cat "$WORK/server.log" >&2; echo "littlepbx did not start" >&2; exit 1; }
BASE="http://127.0.0.1:$PORT"
echo "==> littlepbx (pid $SERVER_PID) listens on $BASE" >&2

# DELETE /orgs/{slug} answers 503 by design when FreeSWITCH cannot be asked about calls (there
# is no FreeSWITCH here). Links are inferred from response bodies only: the Location-header
# inference links nested resources with parameters they do not have (schemathesis 4.32).
cat >"$WORK/schemathesis.toml" <<'TOML'
[phases.stateful.inference]
algorithms = ["dependency-analysis"]

[[operations]]
include-path = "/api/v1/orgs/{slug}"
include-method = "DELETE"
checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "503"]
TOML

echo "==> schemathesis: $EXAMPLES examples per operation, seed $SEED, $WORKERS workers" >&2
STATUS=0
START=$(date +%s)
(cd "$WORK" && "$PWD_ROOT/$VENV/bin/schemathesis" --no-color --config-file schemathesis.toml run "$BASE/api/v1/openapi.json" \
    --header "Authorization: Bearer $KEY" \
    --checks ${FUZZ_CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,ignored_auth} \
    --max-examples "$EXAMPLES" \
    --seed "$SEED" \
    --workers "$WORKERS" \
    --request-timeout 10 \
    --suppress-health-check too_slow,filter_too_much) || STATUS=$?
echo "==> schemathesis finished in $(( $(date +%s) - START )) s with status $STATUS" >&2

if grep -qF "$KEY" "$WORK/server.log" "$WORK/seed.log"; then
    echo "the API key appears in the server log" >&2
    STATUS=1
fi
if grep -q ' ERROR ' "$WORK/server.log"; then
    echo "the server logged errors:" >&2
    grep ' ERROR ' "$WORK/server.log" | tail -n 20 >&2
    STATUS=1
fi
exit "$STATUS"
