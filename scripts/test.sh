#!/usr/bin/env bash
# Runs the whole LittlePBX test suite on a fresh Debian machine, installing what it needs:
# MariaDB (tests start their own private server), and the Rust toolchain's pieces.
#
#   scripts/test.sh
#
# Every database test runs on SQLite and on MariaDB; MariaDB tests are required here, not skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

ensure_debian_packages mariadbd mariadb-server mariadb mariadb-client

export LITTLEPBX_REQUIRE_MYSQL=1
echo "==> cargo test (SQLite and MariaDB)" >&2
cargo test --workspace --locked 2>&1 | tee target/test-output.txt
grep -q '::mariadb ... ok' target/test-output.txt || { echo "no MariaDB test ran" >&2; exit 1; }
echo "==> all tests passed" >&2
