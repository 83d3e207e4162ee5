#!/usr/bin/env bash
# Load benchmark of POST /fs/xml (the hot path: every REGISTER and call) against nginx serving
# answers of the same size as static files, in one run on loopback. Not part of the test suite.
#
#   scripts/bench-fsxml.sh            # 10,000 orgs x 100 extensions
#   LPBX_BENCH_ORGS=1000 scripts/bench-fsxml.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh
ensure_debian_packages nginx nginx wrk wrk
PATH=$PATH:/usr/sbin cargo bench -p littlepbx --bench fsxml_load
