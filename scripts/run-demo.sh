#!/usr/bin/env bash
# Builds LittlePBX and its web app, creates the demo org "acme" in an SQLite database under
# ./data, and serves everything on http://127.0.0.1:8080 (Ctrl-C stops it). The usual LITTLEPBX_*
# settings apply (e.g. LITTLEPBX_LISTEN, LITTLEPBX_DATABASE_URL).
#
#   scripts/run-demo.sh
#
# Installs what is missing (the wasm32 target and the wasm-bindgen CLI) on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

scripts/build-app.sh
echo "==> building the server" >&2
cargo build -p littlepbx --locked
bin=target/debug/littlepbx

echo "==> creating the demo org" >&2
report=$("$bin" seed-demo --admin-password demo-admin-pw --sip-password demo-sip-pw)
listen=${LITTLEPBX_LISTEN:-127.0.0.1:8080}
port=${listen##*:}
python3 - "$report" "$port" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); port = sys.argv[2]
print()
print("LittlePBX is starting.")
print(f"  Org admin page:  http://pbx.{r['org']}.localhost:{port}/")
print(f"    log in as      {r['admin']['email']} / {r['admin']['password']}")
print(f"  Provider demo:   http://localhost:{port}/admin-demo   (API key {r['api_key']})")
print(f"  Provider API:    http://localhost:{port}/api/v1/docs")
print(f"  SIP domain {r['sip_domain']}: extensions " + ", ".join(e['number'] for e in r['extensions']) + f" (password {r['extensions'][0]['sip_password']})")
print()
PY
exec "$bin" serve
