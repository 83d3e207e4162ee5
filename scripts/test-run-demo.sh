#!/usr/bin/env bash
# Checks the README's run command: starts scripts/run-demo.sh with its data in a temporary
# directory, on port 8080 as the README runs it (another free loopback port if 8080 is taken),
# waits for /healthz, checks what it printed (where to go, how to log in), that the demo org's
# page is served and that its admin can log in with the printed password, then stops it. Exits
# non-zero on any failure. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
# The default port (8080) as the README runs it, unless something else has it.
free_port() {
  python3 -c 'import socket, sys; s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); print(s.getsockname()[1])' "$1" 2>/dev/null
}
if port=$(free_port 8080); then
  unset LITTLEPBX_LISTEN
else
  port=$(free_port 0)
  export LITTLEPBX_LISTEN=127.0.0.1:$port
fi
export LITTLEPBX_DATA_DIR=$work/data NO_COLOR=1
log=$work/run-demo.log
setsid scripts/run-demo.sh >"$log" 2>&1 &
pid=$!
stop() {
  kill -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap stop EXIT
fail() {
  echo "run-demo check: $*" >&2
  tail -n 40 "$log" >&2
  exit 1
}

for _ in $(seq 1 600); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "scripts/run-demo.sh exited before serving"
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "no answer on /healthz"

grep -q "Org admin page:  http://pbx.acme.localhost:$port/" "$log" || fail "it did not print where to go"
grep -q "log in as      admin@acme.example / demo-admin-pw" "$log" || fail "it did not print how to log in"
host="pbx.acme.localhost:$port"
curl -fsS -H "Host: $host" "http://127.0.0.1:$port/" | grep -q '<script' || fail "the org page is not the web app"
status=$(curl -sS -o /dev/null -w '%{http_code}' -H "Host: $host" -H 'Content-Type: application/json' \
  -H 'X-LittlePBX: 1' \
  -d '{"email":"admin@acme.example","password":"demo-admin-pw"}' "http://127.0.0.1:$port/api/org/login")
[ "$status" = 200 ] || fail "logging in with the printed password answered $status"
echo "run-demo check: served on port $port, the printed login works" >&2
