#!/usr/bin/env bash
# Browser tests of the web app against the real server, on a fresh machine too.
#
#   e2e/run.sh                 # build what is needed, run every test in e2e/tests/
#   e2e/run.sh tests/03-pbx.test.mjs      # some of them (paths relative to e2e/)
#   E2E_SKIP_BUILD=1 e2e/run.sh           # use the littlepbx binary and dist/ already built
#
# Installs what is missing (Debian's chromium, node and npm; the node modules with `npm ci`),
# builds the server and the web app, starts `littlepbx serve` on a free loopback port with a fresh
# SQLite database in a temporary directory, seeds the demo org (acme) with known passwords,
# creates a second org (globex) and its admin through the provider API (FreeSWITCH's HTTP password
# is set, so tests can post call records), runs the tests with
# node's test runner, and stops the server. Screenshots go to e2e/artifacts/ (with the server's
# log when a test fails). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/ensure.sh

ensure_debian_packages chromium chromium node nodejs npm npm curl curl
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "node $node_major is too old for the tests (20 or newer)" >&2
  exit 1
fi

if [ -z "${E2E_SKIP_BUILD:-}" ]; then
  echo "==> building littlepbx" >&2
  cargo build --locked -p littlepbx --bin littlepbx
  echo "==> building the web app" >&2
  scripts/build-app.sh
fi
bin=$root/target/debug/littlepbx
[ -x "$bin" ] || { echo "no $bin: build it (cargo build -p littlepbx)" >&2; exit 1; }
[ -f "$root/dist/index.html" ] || { echo "no dist/index.html: run scripts/build-app.sh" >&2; exit 1; }

if [ ! -d e2e/node_modules/playwright-core ] || [ e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then
  echo "==> npm ci (playwright-core; no browser download)" >&2
  (cd e2e && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
server_pid=
cleanup() {
  status=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$status" -ne 0 ] && [ -f "$work/serve.log" ]; then
    mkdir -p "$root/e2e/artifacts"
    cp "$work/serve.log" "$root/e2e/artifacts/serve.log"
    echo "the server's log is in e2e/artifacts/serve.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

export LITTLEPBX_DATA_DIR=$work/data
export LITTLEPBX_DATABASE_URL="sqlite://$work/data/littlepbx.db?mode=rwc"
export LITTLEPBX_WEB_DIR=$root/dist
export LITTLEPBX_LISTEN=127.0.0.1:0
export LITTLEPBX_BASE_DOMAIN=localhost
# FreeSWITCH's password for /fs/xml and /fs/cdr: the statistics tests post call records with it.
export LITTLEPBX_FREESWITCH__HTTP_PASSWORD=fs-$RANDOM$RANDOM$RANDOM
# The tests log the same admins in many times a minute; the default (5 a minute per account)
# would refuse them. The limit itself is tested by the server's tests.
export LITTLEPBX_WEB__LOGIN_ATTEMPTS=100
export NO_COLOR=1
mkdir -p "$work/data"

acme_password=acme-admin-$RANDOM$RANDOM
globex_password=globex-admin-$RANDOM$RANDOM
echo "==> seeding the demo org" >&2
"$bin" seed-demo --sip-password "sip-$RANDOM$RANDOM$RANDOM" --admin-password "$acme_password" > "$work/seed.json"
api_key=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).api_key)' "$work/seed.json")

echo "==> starting littlepbx serve" >&2
"$bin" serve > "$work/serve.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed 's/\x1b\[[0-9;]*m//g' "$work/serve.log" | grep -m1 -o 'port=[0-9]*' | cut -d= -f2 || true)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; echo "the server did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log" >&2; echo "the server did not say its port" >&2; exit 1; }
base=http://127.0.0.1:$port
curl -fsS "$base/healthz" >/dev/null

echo "==> creating a second org (globex) through the provider API" >&2
api() {
  curl -fsS -X "$1" "$base/api/v1$2" -H "authorization: Bearer $api_key" \
    -H 'content-type: application/json' ${3:+--data "$3"} > /dev/null
}
api POST /orgs '{"slug":"globex","name":"Globex Corporation"}'
api POST /orgs/globex/admins "{\"email\":\"admin@globex.example\",\"password\":\"$globex_password\"}"

mkdir -p e2e/artifacts
cd e2e
tests=("$@")
[ ${#tests[@]} -gt 0 ] || tests=(tests/*.test.mjs)
echo "==> browser tests against $base" >&2
E2E_PORT=$port E2E_API_KEY=$api_key E2E_ACME_PASSWORD=$acme_password \
  E2E_GLOBEX_PASSWORD=$globex_password E2E_FS_PASSWORD=$LITTLEPBX_FREESWITCH__HTTP_PASSWORD \
  node --test --test-concurrency=1 --test-reporter=spec "${tests[@]}"
