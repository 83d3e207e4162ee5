#!/usr/bin/env bash
# Registration storm benchmark (not part of the tests): every phone of 100 orgs x 100 extensions
# registers from empty against the real FreeSWITCH (../shared/freeswitch, or
# LITTLEPBX_FREESWITCH_DIR) configured by scripts/fs-install.sh, once asking LittlePBX for the
# users and once with the same users as static XML, alternating at rising rates. Prints one
# table (ok / failed, retransmissions, achieved rate, p50/p95, CPU of both) and the ratios.
#
#   scripts/bench-registration-storm.sh
#   LPBX_STORM_RATES=150,300 LPBX_STORM_ORGS=20 scripts/bench-registration-storm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export LITTLEPBX_FREESWITCH_DIR=${LITTLEPBX_FREESWITCH_DIR:-$(cd .. && pwd)/shared/freeswitch}
if [ ! -x "$LITTLEPBX_FREESWITCH_DIR/fs-run" ]; then
  echo "no FreeSWITCH test tree at $LITTLEPBX_FREESWITCH_DIR (set LITTLEPBX_FREESWITCH_DIR)" >&2
  exit 1
fi
cargo bench -p littlepbx --bench registration_storm
