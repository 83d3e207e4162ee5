#!/usr/bin/env bash
# Runs the whole LittlePBX test suite on a fresh Debian machine, installing what it needs.
#
#   scripts/test.sh
#
# 1. formatting check;
# 2. every Rust test (unit, integration over real HTTP, store on SQLite AND on a private MariaDB
#    the tests start themselves, the crash-safety test, the FreeSWITCH templates' install test,
#    e-mail through a real SMTP server (Python's aiosmtpd) on loopback), and the FreeSWITCH tier:
#    a real FreeSWITCH from ../shared/freeswitch (or LITTLEPBX_FREESWITCH_DIR) with SIPp phones
#    and carriers (skipped with one line where the tree is missing; required when CI=true);
# 3. the provider API fuzzer (schemathesis against the running server);
# 4. the browser tests (the web app in headless Chromium against the running server);
# 5. the README's run command (scripts/run-demo.sh) on a free port with its data in a temp dir;
# 6. the Debian package (scripts/test-deb.sh): built once from a release build, lintian, installed
#    from a signed local APT repository, its service run as the unit runs it, upgraded, purged.
# MariaDB tests are required here: a run where they could not run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh
started=$SECONDS
stage() { echo "==> [$(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s] $*" >&2; }

stage "system packages"
ensure_debian_packages mariadbd mariadb-server mariadb mariadb-client sipp sip-tester ldapsearch ldap-utils

fs_tree=${LITTLEPBX_FREESWITCH_DIR:-$(cd .. && pwd)/shared/freeswitch}
# Every library FreeSWITCH's binaries and modules link to is found, or those that are not are
# installed from Debian's packages.
fs_libraries_missing() {
  local f
  for f in "$fs_tree"/bin/* "$fs_tree"/lib/* "$fs_tree"/mod/*.so; do
    ldd "$f" 2>/dev/null | grep -q 'not found' && return 0
  done
  return 1
}
if [ -x "$fs_tree/fs-run" ]; then
  if fs_libraries_missing; then
    stage "FreeSWITCH's libraries (fs-run deps --install)"
    if [ "$apt_updated" = no ]; then as_root apt-get update -qq; apt_updated=yes; fi
    "$fs_tree/fs-run" deps --install >/dev/null
  fi
  export LITTLEPBX_FREESWITCH_DIR=$fs_tree
elif [ "${CI:-}" = true ]; then
  echo "no FreeSWITCH test tree at $fs_tree: the FreeSWITCH tier is required in CI" >&2
  exit 1
else
  echo "==> no FreeSWITCH test tree at $fs_tree: the FreeSWITCH tier will be skipped" >&2
fi

stage "Python packages for the tests (aiosmtpd)"
venv=target/test-venv
if ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  rm -rf "$venv"
  mkdir -p target
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
fi
export LITTLEPBX_TEST_PYTHON=$PWD/$venv/bin/python

stage "cargo fmt --check, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --exclude app --all-targets --locked -- -D warnings

stage "cargo test (SQLite and MariaDB)"
export LITTLEPBX_REQUIRE_MYSQL=1
mkdir -p target
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
if ! grep -q '::mariadb ... ok' target/test-output.txt; then
  echo "no MariaDB test ran" >&2
  exit 1
fi
if [ -n "${LITTLEPBX_FREESWITCH_DIR:-}" ] && ! grep -q '^test mariadb::.* \.\.\. ok' target/test-output.txt; then
  echo "the FreeSWITCH tier did not run" >&2
  exit 1
fi

stage "provider API fuzzing (schemathesis)"
bash scripts/api-fuzz.sh

stage "browser tests (builds the web app; clippy of the app for wasm32 first)"
ensure_wasm_toolchain
cargo clippy -p app --target wasm32-unknown-unknown --locked -- -D warnings
e2e/run.sh

stage "the README's run command (scripts/run-demo.sh) starts and lets the demo admin in"
scripts/test-run-demo.sh

stage "the Debian package: build, lintian, apt-get install from a local repository, upgrade, purge"
scripts/test-deb.sh

stage "all tests passed"
