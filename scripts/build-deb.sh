#!/usr/bin/env bash
# Builds the Debian package of LittlePBX (Debian 12, amd64) with cargo-deb from a release build:
# /usr/bin/littlepbx, the web app, the FreeSWITCH templates and the install scripts under
# /usr/share/littlepbx, the systemd unit, /etc/littlepbx/littlepbx.toml (a conffile) and the
# maintainer scripts of packaging/debian/. Prints the path of the .deb on standard output.
#
#   scripts/build-deb.sh                 # target/deb/littlepbx_<version>-1_amd64.deb
#   scripts/build-deb.sh --revision 2    # the same build as revision 2 (an upgrade of -1)
#   scripts/build-deb.sh --no-build      # package the release binary already built
#
# Builds the web app first when dist/ has none (scripts/build-app.sh). Installs cargo-deb from
# crates.io when it is missing (about two minutes, once).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

CARGO_DEB_VERSION=3.8.0
revision=1 build=yes
while [ $# -gt 0 ]; do
  case "$1" in
    --revision) [ $# -ge 2 ] || { echo "--revision needs a value" >&2; exit 2; }; revision=$2; shift 2 ;;
    --no-build) build=no; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$revision" =~ ^[0-9][0-9a-z.+~]*$ ]] || { echo "--revision: a Debian revision (e.g. 2)" >&2; exit 2; }

if ! cargo deb --version 2>/dev/null | grep -qx "cargo-deb $CARGO_DEB_VERSION"; then
  echo "==> installing cargo-deb $CARGO_DEB_VERSION from crates.io (about two minutes, once)" >&2
  cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked >&2
fi
# dpkg-shlibdeps computes the package's library dependencies ($auto).
ensure_debian_packages dpkg-shlibdeps dpkg-dev

if [ ! -f dist/index.html ]; then
  echo "==> no dist/index.html: building the web app" >&2
  scripts/build-app.sh
fi
if [ "$build" = yes ]; then
  echo "==> cargo build --release -p littlepbx" >&2
  cargo build --release -p littlepbx --bin littlepbx --locked >&2
fi
[ -x target/release/littlepbx ] || { echo "no target/release/littlepbx: build without --no-build" >&2; exit 1; }

echo "==> cargo deb (revision $revision)" >&2
built=$(cargo deb -p littlepbx --no-build --locked --deb-revision "$revision" | tail -n 1)
[ -f "$built" ] || { echo "cargo deb did not report the package it wrote ($built)" >&2; exit 1; }
# Kept in target/deb/: cargo-deb deletes the other versions of the package in target/debian/.
mkdir -p target/deb
deb=target/deb/$(basename "$built")
cp "$built" "$deb"
echo "==> built $deb ($(( $(stat -c %s "$deb") / 1024 )) KiB)" >&2
echo "$deb"
