#!/usr/bin/env bash
# Builds (or updates) an APT repository of LittlePBX packages with Debian's apt-ftparchive, in the
# layout a web server publishes: DIR/pool/main/l/littlepbx/*.deb and DIR/dists/SUITE/ with
# Packages, Release and, with --sign-key, InRelease and Release.gpg signed by gpg.
#
#   scripts/apt-repo.sh --dir DIR [--suite bookworm] [--sign-key KEY] DEB...
#
# Machines then install from it with (the key exported with gpg --export KEY > littlepbx.gpg):
#   deb [signed-by=/etc/apt/keyrings/littlepbx.gpg] https://HOST/PATH bookworm main
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/ensure.sh

dir='' suite=bookworm key=''
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir=$2; shift 2 ;;
    --suite) suite=$2; shift 2 ;;
    --sign-key) key=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 0 ;;
    --) shift; break ;;
    -*) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ -n "$dir" ] || { echo "--dir is required (see --help)" >&2; exit 2; }
[[ "$suite" =~ ^[a-z0-9-]+$ ]] || { echo "--suite: lower-case letters, digits and -" >&2; exit 2; }
ensure_debian_packages apt-ftparchive apt-utils
[ -z "$key" ] || ensure_debian_packages gpg gpg

mkdir -p "$dir/pool/main/l/littlepbx" "$dir/dists/$suite/main/binary-amd64"
for deb in "$@"; do
  [ "$(dpkg-deb -f "$deb" Package)" = littlepbx ] || { echo "$deb is not a littlepbx package" >&2; exit 1; }
  cp "$deb" "$dir/pool/main/l/littlepbx/"
done

cd "$dir"
apt-ftparchive packages pool/main > "dists/$suite/main/binary-amd64/Packages"
gzip -9nc "dists/$suite/main/binary-amd64/Packages" > "dists/$suite/main/binary-amd64/Packages.gz"
rm -f "dists/$suite/Release" "dists/$suite/InRelease" "dists/$suite/Release.gpg"
apt-ftparchive \
  -o APT::FTPArchive::Release::Origin=LittlePBX -o APT::FTPArchive::Release::Label=LittlePBX \
  -o "APT::FTPArchive::Release::Suite=$suite" -o "APT::FTPArchive::Release::Codename=$suite" \
  -o APT::FTPArchive::Release::Architectures=amd64 -o APT::FTPArchive::Release::Components=main \
  -o APT::FTPArchive::Release::Description="LittlePBX packages" \
  release "dists/$suite" > "dists/$suite/Release.new"
mv "dists/$suite/Release.new" "dists/$suite/Release"
if [ -n "$key" ]; then
  gpg --batch --yes --local-user "$key" --clearsign -o "dists/$suite/InRelease" "dists/$suite/Release"
  gpg --batch --yes --local-user "$key" --armor --detach-sign -o "dists/$suite/Release.gpg" "dists/$suite/Release"
fi
echo "==> APT repository $dir, suite $suite: $(grep -c '^Package:' "dists/$suite/main/binary-amd64/Packages") package(s)${key:+, signed}" >&2
