#!/usr/bin/env bash
# Tests the Debian package on this machine, as a provider would use it. Needs root (CI runs as
# root); changes nothing on the machine that it does not undo, even when it fails.
#
#   scripts/test-deb.sh
#
# 1. builds the package (scripts/build-deb.sh: one release build, packaged as revision 1 and,
#    for the upgrade, as revision 2) and checks it with lintian (no error) and its contents (files,
#    conffile, the man page naming every command of --help and of the README);
# 2. publishes revision 1 in a signed local APT repository (scripts/apt-repo.sh, apt-ftparchive,
#    a throw-away gpg key) and installs it with `apt-get install littlepbx`;
# 3. checks the system user, /var/lib/littlepbx, the secrets file (root:littlepbx 0640), the unit
#    (systemd-analyze verify, and systemd-analyze security: exposure under 2.0);
# 4. runs the unit's ExecStart as the unit would (its user, group, working directory, umask,
#    Environment= and EnvironmentFile=, no new privileges), with a drop-in moving it to a free
#    port: /healthz answers; `littlepbx-admin seed-demo` creates the demo org and its admin logs in;
#    the README's FreeSWITCH line runs the packaged fs-install.sh with the generated passwords on a
#    copy of FreeSWITCH's vanilla configuration (../shared/freeswitch/conf-base, when there);
# 5. upgrades to revision 2 from the repository: the secrets, the changed conffile and the data
#    stay, the restarted service still lets the admin in;
# 6. apt-get remove keeps data, secrets and user; apt-get purge leaves no file, user or unit.
# When systemd runs as PID 1 the package's own scripts start it: the test then refuses to run
# (it checks the unit without systemd, as CI has none).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
source scripts/lib/ensure.sh
started=$SECONDS
step() { echo "==> [deb $(( SECONDS - started ))s] $*" >&2; }
fail() { echo "deb test: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || fail "needs root (it installs and purges the package)"
[ ! -d /run/systemd/system ] || fail "systemd is running here: the package would start the real service; run this test where systemd is not PID 1 (CI)"
state=$(dpkg-query -W -f '${db:Status-Status}' littlepbx 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = not-installed ] || fail "littlepbx is installed here already ($state): not touching it"
! getent passwd littlepbx >/dev/null || fail "a user littlepbx exists here already: not touching it"
if [ -e /etc/littlepbx ] || [ -e /var/lib/littlepbx ]; then
  fail "/etc/littlepbx or /var/lib/littlepbx exists here already: not touching it"
fi

ensure_debian_packages lintian lintian apt-ftparchive apt-utils gpg gpg systemd-analyze systemd \
  curl curl setpriv util-linux

work=$(mktemp -d /tmp/littlepbx-deb-test.XXXXXX)
chmod 755 "$work" # apt reads the repository as its _apt user
sources=/etc/apt/sources.list.d/littlepbx-deb-test.list
dropin=/etc/systemd/system/littlepbx.service.d
server_pid=
stop_service() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid"
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  server_pid=
}
forget_repo() {
  rm -f "$sources"
  # apt's copies of the test repository's index files (named after its path).
  local mangled
  mangled=$(echo "${work#/}" | tr / _)
  rm -f /var/lib/apt/lists/*"$mangled"* /var/lib/apt/lists/partial/*"$mangled"*
}
cleanup() {
  local status=$?
  stop_service
  rm -rf "$dropin"
  local now
  now=$(dpkg-query -W -f '${db:Status-Status}' littlepbx 2>/dev/null || true)
  if [ -n "$now" ] && [ "$now" != not-installed ]; then
    echo "==> purging the test's littlepbx package" >&2
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq littlepbx >/dev/null 2>&1 || dpkg --purge littlepbx >/dev/null 2>&1 || true
  fi
  forget_repo
  GNUPGHOME=$work/gnupg gpgconf --kill gpg-agent 2>/dev/null || true
  if [ "$status" -ne 0 ] && [ -f "$work/service.log" ]; then
    echo "---- the service's log" >&2
    tail -n 40 "$work/service.log" >&2
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 "$@"; }

# ---------------------------------------------------------------------------------------------
step "building the package (release build, revisions 1 and 2)"
deb1=$(scripts/build-deb.sh --revision 1)
deb2=$(scripts/build-deb.sh --no-build --revision 2)
version=$(dpkg-deb -f "$deb1" Version)
echo "    $(basename "$deb1"): $(( $(stat -c %s "$deb1") / 1024 )) KiB, installed $(dpkg-deb -f "$deb1" Installed-Size) KiB" >&2
echo "    Depends: $(dpkg-deb -f "$deb1" Depends)" >&2

step "lintian"
lintian --fail-on error --tag-display-limit 0 "$deb1" | tee "$work/lintian.txt" >&2 || fail "lintian found errors"
echo "    lintian: $(grep -c '^E:' "$work/lintian.txt" || true) errors, $(grep -c '^W:' "$work/lintian.txt" || true) warnings" >&2

step "the package's contents"
dpkg-deb -c "$deb1" | awk '{ print $6 }' | sed 's|^\./|/|' > "$work/files.txt"
for f in /usr/bin/littlepbx /usr/sbin/littlepbx-admin /etc/littlepbx/littlepbx.toml \
  /usr/lib/systemd/system/littlepbx.service /usr/share/littlepbx/web/index.html \
  /usr/share/littlepbx/xml-templates/README.md /usr/share/littlepbx/scripts/fs-install.sh \
  /usr/share/littlepbx/scripts/fs-remove.sh /usr/share/littlepbx/scripts/db-create.sh \
  /usr/share/littlepbx/scripts/db-drop.sh /usr/share/man/man1/littlepbx.1.gz \
  /usr/share/man/man8/littlepbx-admin.8.gz /usr/share/doc/littlepbx/copyright \
  /usr/share/doc/littlepbx/changelog.Debian.gz; do
  grep -qx "$f" "$work/files.txt" || fail "the package has no $f"
done
for f in $(cd xml-templates && find . -type f | sed 's|^\./||'); do
  grep -qx "/usr/share/littlepbx/xml-templates/$f" "$work/files.txt" || fail "the package lacks xml-templates/$f"
done
grep -q '^/usr/share/littlepbx/web/pkg/org_bg\..*\.wasm$' "$work/files.txt" || fail "the package has no web app bundle"
dpkg-deb --ctrl-tarfile "$deb1" | tar -xO --wildcards '*conffiles' > "$work/conffiles"
[ "$(cat "$work/conffiles")" = /etc/littlepbx/littlepbx.toml ] || fail "conffiles: $(cat "$work/conffiles")"
# Every command of `littlepbx --help` is in the man page and in the README's command list.
mkdir "$work/extract"
dpkg-deb -x "$deb1" "$work/extract"
commands=$("$work/extract/usr/bin/littlepbx" --help | awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on { print $1 }' | grep -vx help)
[ -n "$commands" ] || fail "littlepbx --help lists no command"
man_page=$(zcat "$work/extract/usr/share/man/man1/littlepbx.1.gz" | sed 's/\\-/-/g')
for command in $commands; do
  grep -q "^\.B $command\b" <<< "$man_page" || fail "the man page does not describe '$command'"
  grep -q "^littlepbx $command\b" README.md || fail "the README's commands do not list '$command'"
done
"$work/extract/usr/bin/littlepbx" --version | grep -qx "littlepbx ${version%-*}" || fail "the binary's version is not the package's"

# ---------------------------------------------------------------------------------------------
step "a signed APT repository with revision 1 (apt-ftparchive, gpg)"
export GNUPGHOME=$work/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key "LittlePBX test repository <repo@littlepbx.example>" ed25519 sign never 2>/dev/null
key=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ { print $10; exit }')
gpg --batch --export "$key" > "$work/littlepbx.gpg"
chmod 644 "$work/littlepbx.gpg"
scripts/apt-repo.sh --dir "$work/repo" --suite bookworm --sign-key "$key" "$deb1"
echo "deb [signed-by=$work/littlepbx.gpg] file:$work/repo bookworm main" > "$sources"
# Only this source is refreshed; the machine's other package lists stay as they are.
update_repo() {
  apt-get update -qq -o "Dir::Etc::sourcelist=$sources" -o Dir::Etc::sourceparts=- \
    -o APT::Get::List-Cleanup=0 2>&1 | tee "$work/apt-update.txt" >&2
  ! grep -q '^[WE]:' "$work/apt-update.txt" || fail "apt-get update complained about the repository"
}
update_repo

step "apt-get install littlepbx"
apt_quiet install littlepbx >&2
[ "$(dpkg-query -W -f '${Version}' littlepbx)" = "$version" ] || fail "installed $(dpkg-query -W -f '${Version}' littlepbx), not $version"

step "user, directories, secrets, unit"
getent passwd littlepbx | awk -F: '$3 < 1000 && $6 == "/var/lib/littlepbx" && $7 == "/usr/sbin/nologin" { ok = 1 } END { exit !ok }' \
  || fail "littlepbx is not a system user with home /var/lib/littlepbx and no shell: $(getent passwd littlepbx)"
[ "$(stat -c '%U:%G %a' /var/lib/littlepbx)" = "littlepbx:littlepbx 750" ] || fail "/var/lib/littlepbx: $(stat -c '%U:%G %a' /var/lib/littlepbx)"
[ "$(stat -c '%U:%G %a' /etc/littlepbx/secrets.env)" = "root:littlepbx 640" ] || fail "secrets.env: $(stat -c '%U:%G %a' /etc/littlepbx/secrets.env)"
for variable in LITTLEPBX_SECRET_KEY LITTLEPBX_FREESWITCH__HTTP_PASSWORD LITTLEPBX_FREESWITCH__ESL_PASSWORD; do
  grep -Eq "^$variable=[A-Za-z0-9+/=_-]{20,}\$" /etc/littlepbx/secrets.env || fail "secrets.env has no $variable"
done
[ "$(grep '^LITTLEPBX_SECRET_KEY=' /etc/littlepbx/secrets.env | cut -d= -f2- | base64 -d | wc -c)" = 32 ] || fail "secret_key is not 32 bytes"
secrets_sum=$(sha256sum < /etc/littlepbx/secrets.env)
[ -L /etc/systemd/system/multi-user.target.wants/littlepbx.service ] || fail "the unit is not enabled"
unit=/usr/lib/systemd/system/littlepbx.service
# verify also runs `man littlepbx` (Documentation=), unless the machine installs no man pages.
man=yes
[ -e /usr/share/man/man1/littlepbx.1.gz ] || man=no
systemd-analyze verify --man="$man" "$unit" 2>&1 | tee "$work/verify.txt" >&2
! grep -q littlepbx "$work/verify.txt" || fail "systemd-analyze verify complained about the unit"
# verify ran `man littlepbx`, and man-db cached the formatted page: the test's file, not the package's.
rm -f /var/cache/man/cat1/littlepbx.1.gz /var/cache/man/cat8/littlepbx-admin.8.gz
systemd-analyze security --offline=true "$unit" > "$work/security.txt" 2>&1 || true
exposure=$(sed -n 's/.*Overall exposure level for littlepbx.service: \([0-9.]*\) .*/\1/p' "$work/security.txt")
[ -n "$exposure" ] || { cat "$work/security.txt" >&2; fail "systemd-analyze security gave no score"; }
echo "    systemd-analyze security: exposure $exposure ($(grep -o 'Overall exposure level.*' "$work/security.txt"))" >&2
awk -v e="$exposure" 'BEGIN { exit !(e < 2.0) }' || fail "exposure $exposure is not under 2.0"

# The service on a free port, through a drop-in as an administrator would write one.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$dropin"
printf '[Service]\nEnvironment=LITTLEPBX_LISTEN=127.0.0.1:%s\n' "$port" > "$dropin/test-port.conf"
systemd-analyze verify --man="$man" "$unit" 2>&1 | { ! grep littlepbx; } || fail "systemd-analyze verify complained about the unit with its drop-in"
rm -f /var/cache/man/cat1/littlepbx.1.gz

# unit_value KEY: the unit's last value of KEY (the unit, then its drop-ins in order).
unit_files() { echo "$unit"; ls "$dropin"/*.conf 2>/dev/null | sort; }
unit_value() { unit_files | xargs sed -n "s/^$1=//p" | tail -n 1; }
unit_values() { unit_files | xargs sed -n "s/^$1=//p"; }
# start_service: the unit's ExecStart as systemd would run it, without systemd.
start_service() {
  local user group dir umask exec_start envs=() file line
  user=$(unit_value User) group=$(unit_value Group) dir=$(unit_value WorkingDirectory)
  umask=$(unit_value UMask) exec_start=$(unit_value ExecStart)
  [ "$(unit_value NoNewPrivileges)" = yes ] || fail "the unit lost NoNewPrivileges"
  # Environment=: space-separated assignments (the unit quotes none); EnvironmentFile=: KEY=VALUE lines.
  while read -r line; do
    for assignment in $line; do envs+=("$assignment"); done
  done < <(unit_values Environment)
  while read -r file; do
    while IFS= read -r line || [ -n "$line" ]; do
      case "$line" in '#'* | ';'* | '') continue ;; *=*) envs+=("$line") ;; esac
    done < "${file#-}"
  done < <(unit_values EnvironmentFile)
  (
    cd "$dir"
    umask "$umask"
    # shellcheck disable=SC2086 # ExecStart is a command line: split as systemd splits it
    exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs \
      --inh-caps=-all --bounding-set=-all \
      env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin "${envs[@]}" $exec_start
  ) >> "$work/service.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || fail "the service exited before serving"
    sleep 0.2
  done
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null || fail "no answer on /healthz"
  [ "$(ps -o uid= -p "$server_pid" | tr -d ' ')" = "$(id -u littlepbx)" ] || fail "the service does not run as littlepbx"
}
login_status() {
  curl -sS -o /dev/null -w '%{http_code}' -H "Host: pbx.acme.localhost:$port" -H 'Content-Type: application/json' \
    -H 'X-LittlePBX: 1' -d "{\"email\":\"admin@acme.example\",\"password\":\"$1\"}" "http://127.0.0.1:$port/api/org/login"
}

step "the unit's ExecStart as user littlepbx on port $port"
start_service
grep -q 'LittlePBX is listening' "$work/service.log" || fail "the service did not log that it listens"
[ -f /var/lib/littlepbx/littlepbx.db ] || fail "no SQLite database in /var/lib/littlepbx"
[ "$(stat -c '%U:%G' /var/lib/littlepbx/littlepbx.db)" = littlepbx:littlepbx ] || fail "the database is not littlepbx's"
[ ! -e /var/lib/littlepbx/generated-secrets.toml ] || fail "the service generated its own secrets instead of using secrets.env"

step "littlepbx-admin seed-demo"
admin_password=deb-admin-$RANDOM$RANDOM
littlepbx-admin seed-demo --admin-password "$admin_password" > "$work/seed.json"
python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); assert r["org"] == "acme", r' "$work/seed.json" || fail "seed-demo printed no report"
[ "$(login_status "$admin_password")" = 200 ] || fail "the demo admin cannot log in"
curl -fsS -H "Host: pbx.acme.localhost:$port" "http://127.0.0.1:$port/" | grep -q '<script' || fail "the web app is not served"
[ "$(stat -c '%U' /var/lib/littlepbx/littlepbx.db)" = littlepbx ] || fail "seed-demo changed the database's owner"

fs_conf_base=${LITTLEPBX_FREESWITCH_DIR:-$(cd .. && pwd)/shared/freeswitch}/conf-base
if [ -f "$fs_conf_base/freeswitch.xml" ]; then
  step "the README's FreeSWITCH line with the packaged fs-install.sh (on a copy of FreeSWITCH's vanilla configuration)"
  cp -r "$fs_conf_base" "$work/fs-conf"
  sh -c 'set -a; . /etc/littlepbx/secrets.env; exec /usr/share/littlepbx/scripts/fs-install.sh --fs-conf-dir "$1" --url http://127.0.0.1:8080/fs/xml --user freeswitch' \
    sh "$work/fs-conf" > "$work/fs-install.txt" 2>&1 || { cat "$work/fs-install.txt" >&2; fail "the packaged fs-install.sh failed"; }
  /usr/share/littlepbx/scripts/fs-install.sh --fs-conf-dir "$work/fs-conf" --check >/dev/null 2>&1 || fail "fs-install.sh --check refuses what it installed"
  http_password=$(sed -n 's/^LITTLEPBX_FREESWITCH__HTTP_PASSWORD=//p' /etc/littlepbx/secrets.env)
  esl_password=$(sed -n 's/^LITTLEPBX_FREESWITCH__ESL_PASSWORD=//p' /etc/littlepbx/secrets.env)
  grep -q "freeswitch:$http_password" "$work/fs-conf/autoload_configs/xml_curl.conf.xml" || fail "FreeSWITCH did not get the HTTP password of secrets.env"
  grep -q "value=\"$esl_password\"" "$work/fs-conf/autoload_configs/event_socket.conf.xml" || fail "FreeSWITCH did not get the event-socket password of secrets.env"
  /usr/share/littlepbx/scripts/fs-remove.sh --fs-conf-dir "$work/fs-conf" >/dev/null 2>&1 || fail "the packaged fs-remove.sh failed"
  diff -r "$fs_conf_base" "$work/fs-conf" >/dev/null || fail "fs-remove.sh did not restore FreeSWITCH's configuration"
else
  echo "==> no FreeSWITCH configuration at $fs_conf_base: the packaged fs-install.sh is not run" >&2
fi

# ---------------------------------------------------------------------------------------------
step "upgrade to revision 2 from the repository"
echo "# changed by the administrator" >> /etc/littlepbx/littlepbx.toml
conf_sum=$(sha256sum < /etc/littlepbx/littlepbx.toml)
scripts/apt-repo.sh --dir "$work/repo" --suite bookworm --sign-key "$key" "$deb2"
update_repo
apt_quiet install littlepbx >&2
version2=$(dpkg-query -W -f '${Version}' littlepbx)
[ "$version2" = "$(dpkg-deb -f "$deb2" Version)" ] || fail "the upgrade installed $version2"
# systemd restarts the unit after the upgrade (the package's postinst): so does the test.
stop_service
start_service
[ "$(sha256sum < /etc/littlepbx/secrets.env)" = "$secrets_sum" ] || fail "the upgrade changed the secrets"
[ "$(sha256sum < /etc/littlepbx/littlepbx.toml)" = "$conf_sum" ] || fail "the upgrade changed the administrator's configuration"
[ "$(login_status "$admin_password")" = 200 ] || fail "after the upgrade the demo admin cannot log in (data lost?)"
echo "    $version -> $version2: secrets, configuration and data kept" >&2

# ---------------------------------------------------------------------------------------------
step "apt-get remove keeps data, secrets and user"
stop_service # systemd stops the unit on removal (the package's prerm)
apt_quiet remove littlepbx >&2
[ ! -e /usr/bin/littlepbx ] || fail "remove left /usr/bin/littlepbx"
[ -f /var/lib/littlepbx/littlepbx.db ] || fail "remove deleted the database"
[ "$(sha256sum < /etc/littlepbx/secrets.env)" = "$secrets_sum" ] || fail "remove changed the secrets"
getent passwd littlepbx >/dev/null || fail "remove deleted the user"

step "apt-get purge leaves nothing behind"
rm -rf "$dropin" # the administrator's drop-in, not the package's
apt_quiet purge littlepbx >&2
forget_repo
leftovers=$(find /etc /usr /var /opt /srv /run \( -path "$root" -o -path "$work" -o -path /var/log \) -prune \
  -o -name '*littlepbx*' -print 2>/dev/null || true)
[ -z "$leftovers" ] || fail "purge left: $leftovers"
! getent passwd littlepbx >/dev/null || fail "purge left the user"
! getent group littlepbx >/dev/null || fail "purge left the group"
state=$(dpkg-query -W -f '${db:Status-Status}' littlepbx 2>/dev/null || true)
[ -z "$state" ] || [ "$state" = not-installed ] || fail "dpkg still knows littlepbx as $state"

step "the package installs, serves, upgrades and purges cleanly"
