#!/usr/bin/env bash
# Installs LittlePBX's FreeSWITCH configuration (xml-templates/) into a FreeSWITCH 1.10
# configuration directory and locks its static fallback down.
#
#   scripts/fs-install.sh --fs-conf-dir DIR --url URL --user USER --password PASSWORD
#                         [--esl-password PASSWORD] [--url2 URL] [--cdr-url URL] [--cdr-url2 URL]
#                         [--moh-dir DIR] [--ext-ip IPV4] [--tls] [--fs-group GROUP]
#                         [--sip-port N] [--tls-port N] [--carrier-port N] [--esl-port N]
#                         [--fs-db DSN|none] [--fs-db-password-file FILE]
#   scripts/fs-install.sh --fs-conf-dir DIR --check [--sip-port N ...] [--fs-db DSN|none]
#
#   --fs-conf-dir   FreeSWITCH's configuration directory (the one holding freeswitch.xml),
#                   e.g. /etc/freeswitch
#   --url           LittlePBX's POST /fs/xml address as FreeSWITCH reaches it,
#                   e.g. http://127.0.0.1:8080/fs/xml (https is verified: CA and host name)
#   --url2          a second LittlePBX instance, tried when the first does not answer
#   --cdr-url       where mod_json_cdr posts call records; default: --url with /fs/xml
#                   replaced by /fs/cdr (--cdr-url2 likewise from --url2)
#   --user          LittlePBX's freeswitch.http_user (basic auth of /fs/xml and /fs/cdr)
#   --password      LittlePBX's freeswitch.http_password; without the option it is read from
#                   LITTLEPBX_FREESWITCH__HTTP_PASSWORD (command lines are visible to other users)
#   --esl-password  the event socket password; default: LITTLEPBX_FREESWITCH__ESL_PASSWORD, else
#                   the one installed before, else a new random one, printed once
#   --moh-dir       the provider's default music on hold (a directory holding 8000/ and 16000/)
#                   as FreeSWITCH sees it; printed as LittlePBX's freeswitch.default_moh_dir
#   --ext-ip        the public IPv4 address SIP and RTP advertise behind 1:1 NAT (cloud
#                   machines); default: auto-nat (FreeSWITCH's own NAT detection)
#   --tls           SIP over TLS on the internal profile, port 5061 (certificates: README)
#   --fs-group      the group FreeSWITCH runs as; the files holding secrets are made readable by
#                   it only (default: "freeswitch" when that group exists)
#   --sip-port      phones' SIP port, UDP and TCP (internal profile; default 5060)
#   --tls-port      phones' SIP over TLS port, used with --tls (default 5061)
#   --carrier-port  carriers' SIP port (external profile; default 5080)
#   --esl-port      the event socket's port on 127.0.0.1 (default 8021)
#                   A port not given keeps the value installed before, else its default. The
#                   SIP ports and LittlePBX's matching settings are printed on standard output.
#   --fs-db         FreeSWITCH keeps its own database (core tables, the SIP profiles'
#                   registrations) on MariaDB/MySQL instead of SQLite files:
#                   'mariadb://Server=HOST;Port=3306;Database=freeswitch;Uid=freeswitch;'
#                   (scripts/db-create.sh --fs-database prints it). It loads mod_mariadb before
#                   the core database opens (pre_load_modules.conf.xml), sets core-db-dsn in
#                   switch.conf.xml (edited in place, kept once as .littlepbx-orig) and odbc-dsn
#                   in both SIP profiles. `none` goes back to SQLite; without the option the
#                   value installed before (password included) is kept. Keys: Server, Port
#                   (optional), Database, Uid; no value may hold spaces, control characters or
#                   ; = " ' < > & $ @ \ (mod_mariadb splits at ';' and '='). Restart FreeSWITCH
#                   after a change: it opens its databases at start only.
#   --fs-db-password-file  a file whose first line is the password of --fs-db's user; default:
#                   a Pwd= in --fs-db (command lines are visible to other users: a warning),
#                   else LITTLEPBX_FS_DB_PASSWORD
#   --check         validates an installed tree (well-formed XML, no placeholder left, no vanilla
#                   hole left, four distinct valid ports, the ports given with it, FreeSWITCH's
#                   database set in all three places or in none, and the one given with --fs-db)
#                   and changes nothing
#
# Idempotent: a second run with the same options leaves every file as it was. A file it replaces
# is kept once as FILE.littlepbx-orig; vanilla files that would open holes (directory users,
# dialplans, chatplans, other SIP profiles, post_load_modules.conf.xml) are moved to
# DIR/.littlepbx-backup/. scripts/fs-remove.sh undoes all of it. Values are XML-escaped; control
# characters (newlines...) are refused. The values LittlePBX needs are printed on standard output,
# everything else on standard error. Needs no network.
set -euo pipefail
export LC_ALL=C
shopt -u patsub_replacement 2>/dev/null || true

here=$(cd "$(dirname "$0")" && pwd)
templates=$here/../xml-templates
BACKUP=.littlepbx-backup
STATE=$BACKUP/state
MARKER='<!-- LittlePBX: installed by scripts/fs-install.sh'
OWNED_DIRS=(directory dialplan chatplan channels sip_profiles)
EXTRA_HOLES=(autoload_configs/post_load_modules.conf.xml)
SECRET_FILES=(autoload_configs/xml_curl.conf.xml autoload_configs/json_cdr.conf.xml
  autoload_configs/event_socket.conf.xml sip_profiles/internal.xml sip_profiles/external.xml)
# FreeSWITCH's own file that --fs-db edits in place (one line, marked).
SWITCH_CONF=autoload_configs/switch.conf.xml
# (No "--" in it: XML comments must not hold two dashes.)
FS_DB_MARK='<!-- LittlePBX: FreeSWITCH database (fs-install.sh fs-db) -->'
FS_DB_MARK_RE='<!-- LittlePBX: FreeSWITCH database (fs-install\.sh fs-db) -->'
# freeswitch.xml gets a `channels` section (sofia's nightmare transfers ask it; see
# sip_profiles/internal.xml): three lines, each ending in this marker.
CHANNELS_MARK='<!-- LittlePBX: channels section (fs-install.sh) -->'
CHANNELS_MARK_RE='<!-- LittlePBX: channels section (fs-install\.sh) -->'
MAIN_CONF=freeswitch.xml

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }
die() { echo "fs-install: $*" >&2; exit 1; }
bad() { echo "fs-install: $*" >&2; exit 2; }

conf='' url='' url2='' cdr_url='' cdr_url2='' user='' password='' esl_password='' moh_dir=''
ext_ip=auto-nat tls=false fs_group='' check=no
password_given=no esl_given=no fs_db='' fs_db_given=no fs_db_password_file='' fs_db_password=''
declare -A PORT=()   # option name -> value given on the command line
need() { [ $# -ge 2 ] || bad "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --fs-conf-dir) need "$@"; conf=$2; shift 2 ;;
    --url) need "$@"; url=$2; shift 2 ;;
    --url2) need "$@"; url2=$2; shift 2 ;;
    --cdr-url) need "$@"; cdr_url=$2; shift 2 ;;
    --cdr-url2) need "$@"; cdr_url2=$2; shift 2 ;;
    --user) need "$@"; user=$2; shift 2 ;;
    --password) need "$@"; password=$2; password_given=yes; shift 2 ;;
    --esl-password) need "$@"; esl_password=$2; esl_given=yes; shift 2 ;;
    --moh-dir) need "$@"; moh_dir=$2; shift 2 ;;
    --ext-ip) need "$@"; ext_ip=$2; shift 2 ;;
    --fs-group) need "$@"; fs_group=$2; shift 2 ;;
    --tls) tls=true; shift ;;
    --fs-db) need "$@"; fs_db=$2; fs_db_given=yes; shift 2 ;;
    --fs-db-password-file) need "$@"; fs_db_password_file=$2; shift 2 ;;
    --sip-port|--tls-port|--carrier-port|--esl-port) need "$@"; PORT[$1]=$2; shift 2 ;;
    --check) check=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) bad "unknown option $1 (see --help)" ;;
  esac
done

[ -n "$conf" ] || bad "--fs-conf-dir is required (see --help)"
[ -d "$conf" ] || bad "--fs-conf-dir $conf is not a directory"
conf=$(cd "$conf" && pwd)
[ -f "$conf/freeswitch.xml" ] ||
  bad "$conf does not look like a FreeSWITCH configuration directory (no freeswitch.xml)"
[ -d "$templates" ] || die "templates not found at $templates"

# The templates, relative to xml-templates/ (and to the configuration directory).
mapfile -t TEMPLATES < <(cd "$templates" && find . -type f -name '*.xml' | sed 's|^\./||' | sort)
is_template() {
  local t
  for t in "${TEMPLATES[@]}"; do [ "$t" = "$1" ] && return 0; done
  return 1
}
is_ours() { [ -f "$1" ] && head -n 1 "$1" | grep -qF "$MARKER"; }

# The four ports: option, the file and parameter that hold it, its default.
PORT_OPTIONS=(--sip-port --tls-port --carrier-port --esl-port)
declare -A PORT_FILE=([--sip-port]=sip_profiles/internal.xml [--tls-port]=sip_profiles/internal.xml
  [--carrier-port]=sip_profiles/external.xml [--esl-port]=autoload_configs/event_socket.conf.xml)
declare -A PORT_PARAM=([--sip-port]=sip-port [--tls-port]=tls-sip-port [--carrier-port]=sip-port
  [--esl-port]=listen-port)
declare -A PORT_DEFAULT=([--sip-port]=5060 [--tls-port]=5061 [--carrier-port]=5080 [--esl-port]=8021)
valid_port() { [[ $1 =~ ^[1-9][0-9]{0,4}$ ]] && [ "$1" -le 65535 ]; }
# installed_port OPTION: the value in the installed file (empty when not installed by LittlePBX).
installed_port() {
  local f=$conf/${PORT_FILE[$1]} line
  is_ours "$f" || return 0
  line=$(grep -m 1 "<param name=\"${PORT_PARAM[$1]}\" value=\"" "$f" || true)
  line=${line#*value=\"}
  printf '%s' "${line%%\"*}"
}
# port_problems ARRAY: one line per problem of the ports in the associative array ARRAY
# (option -> value): a value that is not a port, or two options with the same port.
port_problems() {
  local -n ports=$1
  local i j a b
  for a in "${PORT_OPTIONS[@]}"; do
    valid_port "${ports[$a]:-}" || echo "$a: '${ports[$a]:-}' is not a port (1-65535)"
  done
  for ((i = 0; i < ${#PORT_OPTIONS[@]}; i++)); do
    for ((j = i + 1; j < ${#PORT_OPTIONS[@]}; j++)); do
      a=${PORT_OPTIONS[i]} b=${PORT_OPTIONS[j]}
      if [ -n "${ports[$a]:-}" ] && [ "${ports[$a]}" = "${ports[$b]:-}" ]; then
        echo "$a and $b are both ${ports[$a]}: every port must be different"
      fi
    done
  done
}

# XML escaping for attribute values: the five XML characters, `$` (FreeSWITCH's preprocessor
# expands $${...} before parsing) and `@` (so that no value can form a @PLACEHOLDER@).
xml_escape() {
  local s=$1
  s=${s//&/"&amp;"}
  s=${s//</"&lt;"}
  s=${s//>/"&gt;"}
  s=${s//\"/"&quot;"}
  s=${s//\'/"&apos;"}
  s=${s//\$/"&#36;"}
  s=${s//@/"&#64;"}
  printf '%s' "$s"
}
xml_unescape() {
  local s=$1
  s=${s//"&#64;"/@}
  s=${s//"&#36;"/\$}
  s=${s//"&apos;"/\'}
  s=${s//"&quot;"/\"}
  s=${s//"&gt;"/>}
  s=${s//"&lt;"/<}
  s=${s//"&amp;"/&}
  printf '%s' "$s"
}

# FreeSWITCH's database. dsn_field DSN KEY: the value of KEY= in a mod_mariadb DSN.
dsn_field() {
  local part
  local -a parts
  IFS=';' read -ra parts <<<"${1#mariadb://}"
  for part in "${parts[@]}"; do
    if [ "${part%%=*}" = "$2" ] && [[ $part == *=* ]]; then printf '%s' "${part#*=}"; return 0; fi
  done
  return 0
}
# dsn_problem DSN: why the DSN cannot be used (nothing when it can). Every value ends up in XML
# attributes that FreeSWITCH's preprocessor reads ($${...}), and mod_mariadb splits the DSN at
# ';', then each part at '=' keeping only what lies between the first two (so a value holding
# '=' would be cut short), and takes the last of a key given twice.
dsn_problem() {
  local dsn=$1 part key seen=' '
  local -a parts
  [[ $dsn == mariadb://* ]] || { echo "must start with mariadb:// (mod_mariadb's DSN)"; return; }
  if [[ $dsn =~ [[:cntrl:][:space:]\"\'\<\>\&\$@\\] ]]; then
    echo "must not contain spaces, control characters or \" ' < > & \$ @ \\"; return
  fi
  IFS=';' read -ra parts <<<"${dsn#mariadb://}"
  for part in "${parts[@]}"; do
    [ -n "$part" ] || continue
    key=${part%%=*}
    case $key in
      Server|Port|Database|Uid|Pwd) ;;
      *) echo "unknown part '$key' (use Server, Port, Database, Uid and Pwd)"; return ;;
    esac
    [[ $part == *=?* ]] || { echo "$key has no value"; return; }
    [[ ${part#*=} == *=* ]] && { echo "the value of $key must not contain '='"; return; }
    [[ $seen == *" $key "* ]] && { echo "$key is given twice"; return; }
    seen+="$key "
  done
  for key in Server Database Uid; do
    [ -n "$(dsn_field "$dsn" "$key")" ] || { echo "needs $key="; return; }
  done
  local port
  port=$(dsn_field "$dsn" Port)
  if [ -n "$port" ] && ! valid_port "$port"; then echo "Port= is not a port"; fi
}
# The DSN without its password, for comparing and printing.
dsn_without_password() {
  local part out=mariadb://
  local -a parts
  IFS=';' read -ra parts <<<"${1#mariadb://}"
  for part in "${parts[@]}"; do
    [ -n "$part" ] && [ "${part%%=*}" != Pwd ] && out+="$part;"
  done
  printf '%s' "$out"
}
# dsn_target DSN: where it leads, as mod_mariadb reads it (3306 when no Port is given).
dsn_target() {
  local port
  port=$(dsn_field "$1" Port)
  printf 'Server=%s;Port=%s;Database=%s;Uid=%s;' "$(dsn_field "$1" Server)" "${port:-3306}" \
    "$(dsn_field "$1" Database)" "$(dsn_field "$1" Uid)"
}
# installed_fs_db: the DSN (with password) the installed internal profile uses; empty if none.
installed_fs_db() {
  local f=$conf/sip_profiles/internal.xml line
  is_ours "$f" || return 0
  line=$(grep -m 1 '<param name="odbc-dsn" value="' "$f" || true)
  [ -n "$line" ] || return 0
  line=${line#*value=\"}
  xml_unescape "${line%%\"*}"
}
# switch_conf_with DSN: switch.conf.xml as installed, with our core-db-dsn line replaced by one
# for DSN, right after the <settings> line (none when DSN is empty). Printed on standard output.
# sed, not awk or read: a last line without a newline stays so, and `none` gives the original
# back byte for byte.
switch_conf_with() {
  local f=$conf/$SWITCH_CONF
  if [ -z "$1" ]; then
    sed "/$FS_DB_MARK_RE/d" "$f"
    return 0
  fi
  # The line for sed's a command: every backslash doubled (the escaped DSN holds no newline).
  local line
  line="    <param name=\"core-db-dsn\" value=\"$(xml_escape "$1")\"/> $FS_DB_MARK"
  line=${line//\\/\\\\}
  sed -e "/$FS_DB_MARK_RE/d" -e "/^[[:space:]]*<settings>[[:space:]]*\$/a\\
$line" "$f"
}
# freeswitch.xml with LittlePBX's channels section just before </document>.
main_conf_with_channels() {
  sed -e "/$CHANNELS_MARK_RE/d" -e "/^[[:space:]]*<\/document>/i\\
  <section name=\"channels\" description=\"LittlePBX\"> $CHANNELS_MARK\\
    <X-PRE-PROCESS cmd=\"include\" data=\"channels/*.xml\"/> $CHANNELS_MARK\\
  </section> $CHANNELS_MARK" "$conf/$MAIN_CONF"
}
# Lines of switch.conf.xml setting core-db-dsn, outside one-line comments (the vanilla file holds
# commented examples).
active_core_db_lines() {
  grep -E '^[[:space:]]*<param name="core-db-dsn"' "$conf/$SWITCH_CONF" 2>/dev/null || true
}

# The XML validator --check and the install use: xmllint, else python3's minidom.
xml_ok() {
  if command -v xmllint >/dev/null 2>&1; then
    xmllint --noout "$1" 2>/dev/null
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$1" 2>/dev/null
  else
    return 2
  fi
}
have_validator() { command -v xmllint >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1; }

# Every file FreeSWITCH would read from the directories LittlePBX owns that is not ours.
# Prints relative paths, NUL-separated.
foreign_files() {
  local d f rel
  for d in "${OWNED_DIRS[@]}"; do
    [ -d "$conf/$d" ] || continue
    while IFS= read -r -d '' f; do
      rel=${f#"$conf"/}
      case $rel in *.littlepbx-orig) continue ;; esac
      is_template "$rel" && continue
      printf '%s\0' "$rel"
    done < <(find "$conf/$d" \( -type f -o -type l \) -print0 | sort -z)
  done
  for rel in "${EXTRA_HOLES[@]}"; do
    if [ -e "$conf/$rel" ] || [ -L "$conf/$rel" ]; then printf '%s\0' "$rel"; fi
  done
}

# ------------------------------------------------------------------------------------------
# --check
# ------------------------------------------------------------------------------------------
if [ "$check" = yes ]; then
  have_validator || die "--check needs xmllint (Debian: libxml2-utils) or python3"
  problems=0
  problem() { echo "fs-install --check: $*" >&2; problems=$((problems + 1)); }
  for rel in "${TEMPLATES[@]}"; do
    f=$conf/$rel
    if [ ! -f "$f" ]; then problem "$rel is missing"; continue; fi
    is_ours "$f" || problem "$rel was not installed by LittlePBX (marker line missing)"
    xml_ok "$f" || problem "$rel is not well-formed XML"
    if grep -qE '@[A-Z0-9_]+@' "$f"; then problem "$rel still holds a placeholder"; fi
  done
  while IFS= read -r -d '' rel; do
    problem "$rel would be read by FreeSWITCH but is not LittlePBX's (run the install again)"
  done < <(foreign_files)
  # The settings that close holes between orgs, and those registration storms need; each must
  # be there exactly as shipped.
  for required in \
    'sip_profiles/internal.xml|<param name="channel-xml-fetch-on-nightmare-transfer" value="true"/>' \
    'sip_profiles/internal.xml|<param name="make-every-transfer-a-nightmare" value="true"/>' \
    'autoload_configs/modules.conf.xml|<load module="mod_loopback"/>' \
    'autoload_configs/xml_curl.conf.xml|bindings="directory|dialplan|configuration|chatplan|channels"' \
    'sip_profiles/internal.xml|<param name="auth-calls" value="true"/>' \
    'sip_profiles/external.xml|<param name="disable-transfer" value="true"/>' \
    'sip_profiles/external.xml|<param name="auth-calls-acl-only" value="true"/>' \
    'sip_profiles/external.xml|<param name="disable-register" value="true"/>' \
    'sip_profiles/internal.xml|<param name="inbound-reg-in-new-thread" value="true"/>' \
    'autoload_configs/sofia.conf.xml|<param name="max-reg-threads" value="16"/>' \
    'autoload_configs/voicemail.conf.xml|<param name="login-keys" value=""/>'; do
    rel=${required%%|*} line=${required#*|}
    if [ -f "$conf/$rel" ] && ! grep -qF -- "$line" "$conf/$rel"; then problem "$rel lacks $line"; fi
  done
  declare -A INSTALLED=()
  for opt in "${PORT_OPTIONS[@]}"; do INSTALLED[$opt]=$(installed_port "$opt"); done
  while IFS= read -r line; do problem "installed ports: $line"; done < <(port_problems INSTALLED)
  for opt in "${!PORT[@]}"; do
    [ "${PORT[$opt]}" = "${INSTALLED[$opt]}" ] ||
      problem "$opt is ${INSTALLED[$opt]:-missing} in ${PORT_FILE[$opt]}, not ${PORT[$opt]}"
  done
  # FreeSWITCH's database: in all three places, alike, or in none.
  installed_dsn=$(installed_fs_db)
  pre_loads_mariadb=no
  if grep -qE '^[[:space:]]*<load module="mod_mariadb"/>' "$conf/autoload_configs/pre_load_modules.conf.xml" 2>/dev/null; then
    pre_loads_mariadb=yes
  fi
  external_dsn_lines=$(grep -c '<param name="odbc-dsn"' "$conf/sip_profiles/external.xml" 2>/dev/null || true)
  internal_dsn_lines=$(grep -c '<param name="odbc-dsn"' "$conf/sip_profiles/internal.xml" 2>/dev/null || true)
  core_lines=$(active_core_db_lines | grep -c . || true)
  our_core_lines=$(grep -cF -- "$FS_DB_MARK" "$conf/$SWITCH_CONF" 2>/dev/null || true)
  if [ -n "$installed_dsn" ]; then
    escaped=$(xml_escape "$installed_dsn")
    problem_text=$(dsn_problem "$installed_dsn")
    [ -z "$problem_text" ] || problem "the odbc-dsn of sip_profiles/internal.xml $problem_text"
    [ -n "$(dsn_field "$installed_dsn" Pwd)" ] || problem "the odbc-dsn of sip_profiles/internal.xml has no Pwd="
    [ "${internal_dsn_lines:-0}" = 1 ] || problem "sip_profiles/internal.xml sets odbc-dsn more than once"
    [ "$pre_loads_mariadb" = yes ] ||
      problem "autoload_configs/pre_load_modules.conf.xml does not load mod_mariadb (FreeSWITCH's database is on MariaDB)"
    if [ "${external_dsn_lines:-0}" != 1 ] ||
      ! grep -qF -- "<param name=\"odbc-dsn\" value=\"$escaped\"/>" "$conf/sip_profiles/external.xml"; then
      problem "sip_profiles/external.xml does not use the internal profile's odbc-dsn (once)"
    fi
    if [ "${core_lines:-0}" != 1 ] ||
      ! grep -qF -- "<param name=\"core-db-dsn\" value=\"$escaped\"/> $FS_DB_MARK" "$conf/$SWITCH_CONF"; then
      problem "$SWITCH_CONF does not set core-db-dsn to the profiles' odbc-dsn exactly once"
    fi
    for rel in sip_profiles/internal.xml sip_profiles/external.xml "$SWITCH_CONF"; do
      if [ -n "$(find "$conf/$rel" -perm -o=r 2>/dev/null)" ]; then
        problem "$rel holds FreeSWITCH's database password and is readable by everyone"
      fi
    done
  else
    # Half there: FreeSWITCH would start with its core on one database and the profiles on
    # another (or fail to load the DSN's module).
    [ "$pre_loads_mariadb" = no ] ||
      problem "autoload_configs/pre_load_modules.conf.xml loads mod_mariadb, but the SIP profiles have no odbc-dsn"
    [ "${external_dsn_lines:-0}" = 0 ] ||
      problem "sip_profiles/external.xml has an odbc-dsn, but sip_profiles/internal.xml has none"
    [ "${our_core_lines:-0}" = 0 ] ||
      problem "$SWITCH_CONF still has LittlePBX's core-db-dsn line, but the SIP profiles have no odbc-dsn"
  fi
  if [ "$fs_db_given" = yes ]; then
    if [ "$fs_db" = none ]; then
      [ -z "$installed_dsn" ] ||
        problem "--fs-db none, but FreeSWITCH's database is $(dsn_without_password "$installed_dsn")"
    else
      problem_text=$(dsn_problem "$fs_db")
      [ -z "$problem_text" ] || bad "--fs-db $problem_text"
      if [ -z "$installed_dsn" ]; then
        problem "--fs-db is $(dsn_target "$fs_db"), but no database is installed (FreeSWITCH uses its SQLite files)"
      elif [ "$(dsn_target "$fs_db")" != "$(dsn_target "$installed_dsn")" ]; then
        problem "--fs-db is $(dsn_target "$fs_db"), installed: $(dsn_target "$installed_dsn")"
      fi
    fi
  fi
  if [ "$(grep -cF -- "$CHANNELS_MARK" "$conf/$MAIN_CONF")" != 3 ] ||
    ! grep -qF -- "data=\"channels/*.xml\"/> $CHANNELS_MARK" "$conf/$MAIN_CONF"; then
    problem "$MAIN_CONF lacks LittlePBX's channels section (sofia's nightmare transfers would call the Refer-To URI)"
  fi
  for include in 'autoload_configs/\*.xml' 'dialplan/\*.xml' 'chatplan/\*.xml' 'directory/\*.xml'; do
    grep -q "data=\"$include\"" "$conf/freeswitch.xml" ||
      echo "fs-install --check: warning: freeswitch.xml does not include ${include//\\/}" >&2
  done
  if [ "$problems" -gt 0 ]; then
    echo "fs-install --check: $problems problem(s) in $conf" >&2
    exit 1
  fi
  echo "fs-install --check: $conf is LittlePBX's configuration, locked down" >&2
  exit 0
fi

# ------------------------------------------------------------------------------------------
# Values
# ------------------------------------------------------------------------------------------
has_control() { [[ $1 == *[[:cntrl:]]* ]]; }
safe_value() { # NAME VALUE
  has_control "$2" && bad "$1 must not contain control characters (newlines, tabs...)"
  # FreeSWITCH's preprocessor drops a line that mentions X-PRE-PROCESS without a '<' before it.
  [[ ${2,,} == *x-pre-process* ]] && bad "$1 must not contain \"X-PRE-PROCESS\""
  return 0
}
check_url() { # NAME VALUE
  safe_value "$1" "$2"
  [[ $2 =~ ^https?://[^[:space:]/?#]+ ]] || bad "$1 must be an http:// or https:// URL"
  [[ $2 == *[[:space:]]* ]] && bad "$1 must not contain spaces"
  # mod_xml_curl reads any URL containing "file:" as a local file.
  [[ ${2,,} == *file:* ]] && bad "$1 must not contain \"file:\""
  return 0
}
cdr_from() { # NAME XML_URL: the /fs/cdr URL beside a /fs/xml URL
  [[ $2 == */fs/xml ]] || bad "$1 does not end in /fs/xml: give the call record URL with --cdr-url"
  printf '%s' "${2%/fs/xml}/fs/cdr"
}
tls_verify() { [[ ${1,,} == https://* ]] && echo true || echo false; }

[ -n "$url" ] || bad "--url is required (see --help)"
check_url --url "$url"
if [ -n "$url2" ]; then check_url --url2 "$url2"; fi
[ -n "$cdr_url" ] || cdr_url=$(cdr_from --url "$url")
check_url --cdr-url "$cdr_url"
if [ -n "$url2" ] && [ -z "$cdr_url2" ]; then cdr_url2=$(cdr_from --url2 "$url2"); fi
if [ -n "$cdr_url2" ]; then
  [ -n "$url2" ] || bad "--cdr-url2 needs --url2"
  check_url --cdr-url2 "$cdr_url2"
fi
for u in "$cdr_url" "$cdr_url2"; do
  # mod_json_cdr appends ?uuid=... itself.
  [[ $u == *[?#]* ]] && bad "call record URLs must not hold a query or fragment: $u"
done

[ -n "$user" ] || bad "--user is required (LittlePBX's freeswitch.http_user)"
safe_value --user "$user"
[[ $user == *:* ]] && bad "--user must not contain ':' (basic auth splits user:password there)"
if [ "$password_given" = no ]; then password=${LITTLEPBX_FREESWITCH__HTTP_PASSWORD:-}; fi
[ -n "$password" ] ||
  bad "--password is required (or LITTLEPBX_FREESWITCH__HTTP_PASSWORD): LittlePBX's freeswitch.http_password"
safe_value --password "$password"

if [ "$esl_given" = no ] && [ -n "${LITTLEPBX_FREESWITCH__ESL_PASSWORD:-}" ]; then
  esl_password=$LITTLEPBX_FREESWITCH__ESL_PASSWORD
  esl_given=yes
fi
if [ "$esl_given" = yes ]; then
  safe_value --esl-password "$esl_password"
  [ -n "$esl_password" ] || bad "--esl-password must not be empty"
  [[ $esl_password == *[[:space:]]* ]] && bad "--esl-password must not contain spaces"
  [ "$esl_password" = ClueCon ] && bad "--esl-password must not be FreeSWITCH's default"
fi

if [ -n "$moh_dir" ]; then
  # The rule of the freeswitch crate's Settings::default_moh.dir.
  if ! [[ $moh_dir =~ ^/[A-Za-z0-9_./-]*$ ]] || [[ /$moh_dir/ == */../* ]]; then
    bad "--moh-dir must be an absolute path of letters, digits, '_', '.', '-' and '/' without '..'"
  fi
  for rate in 8000 16000; do
    [ -d "$moh_dir/$rate" ] ||
      echo "fs-install: warning: $moh_dir/$rate does not exist here (fine if FreeSWITCH runs elsewhere)" >&2
  done
fi

if [ "$ext_ip" != auto-nat ]; then
  [[ $ext_ip =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] ||
    bad "--ext-ip must be an IPv4 address"
  for octet in "${BASH_REMATCH[@]:1}"; do
    [ "$((10#$octet))" -le 255 ] || bad "--ext-ip must be an IPv4 address"
  done
fi

# FreeSWITCH's database: given, `none`, else the one installed before (so that a second run
# changes nothing). Its password: --fs-db-password-file, else Pwd= in --fs-db, else
# LITTLEPBX_FS_DB_PASSWORD. The DSN installed is --fs-db's parts in their order, Pwd= last.
[ -z "$fs_db_password_file" ] || [ "$fs_db_given" = yes ] || bad "--fs-db-password-file needs --fs-db"
if [ "$fs_db_given" = no ]; then
  fs_db=$(installed_fs_db)
  if [ -n "$fs_db" ]; then
    problem=$(dsn_problem "$fs_db")
    [ -z "$problem" ] ||
      bad "the odbc-dsn installed in sip_profiles/internal.xml $problem: give --fs-db DSN or --fs-db none"
  fi
elif [ "$fs_db" = none ]; then
  fs_db=''
else
  problem=$(dsn_problem "$fs_db")
  [ -z "$problem" ] || bad "--fs-db $problem"
  fs_db_password=$(dsn_field "$fs_db" Pwd)
  if [ -n "$fs_db_password_file" ]; then
    [ -z "$fs_db_password" ] || bad "the password is given twice: Pwd= in --fs-db and --fs-db-password-file"
    if [ ! -f "$fs_db_password_file" ] || [ ! -r "$fs_db_password_file" ]; then
      bad "--fs-db-password-file $fs_db_password_file cannot be read"
    fi
    IFS= read -r fs_db_password <"$fs_db_password_file" || true
  elif [ -n "$fs_db_password" ]; then
    echo "fs-install: warning: the password in --fs-db is visible to other users of this machine (command lines are); prefer LITTLEPBX_FS_DB_PASSWORD or --fs-db-password-file" >&2
  else
    fs_db_password=${LITTLEPBX_FS_DB_PASSWORD:-}
  fi
  [ -n "$fs_db_password" ] ||
    bad "--fs-db needs the password of its user: set LITTLEPBX_FS_DB_PASSWORD or give --fs-db-password-file FILE"
  [[ $fs_db_password == *[\;=]* ]] && bad "the --fs-db password must not contain ';' or '='"
  fs_db="$(dsn_without_password "$fs_db")Pwd=$fs_db_password;"
  problem=$(dsn_problem "$fs_db")
  [ -z "$problem" ] || bad "the --fs-db password $problem"
fi

# Ports: given, else the ones installed before (so that a second run changes nothing), else the
# defaults.
declare -A PORTS=()
for opt in "${PORT_OPTIONS[@]}"; do
  PORTS[$opt]=${PORT[$opt]:-$(installed_port "$opt")}
  [ -n "${PORTS[$opt]}" ] || PORTS[$opt]=${PORT_DEFAULT[$opt]}
done
problems=$(port_problems PORTS)
[ -z "$problems" ] || bad "${problems//$'\n'/; }"

if [ -z "$fs_group" ] && getent group freeswitch >/dev/null 2>&1; then fs_group=freeswitch; fi
if [ -n "$fs_group" ]; then
  [[ $fs_group =~ ^[A-Za-z_][A-Za-z0-9_.-]*$ ]] || bad "--fs-group is not a group name"
  getent group "$fs_group" >/dev/null 2>&1 || bad "--fs-group: no group $fs_group on this machine"
fi

# The event socket password: given, else the one installed before (so that a second run changes
# nothing), else a new one.
esl_generated=no
if [ "$esl_given" = no ]; then
  esl_file=$conf/autoload_configs/event_socket.conf.xml
  if is_ours "$esl_file"; then
    line=$(grep -m 1 '<param name="password" value="' "$esl_file" || true)
    line=${line#*value=\"}
    esl_password=$(xml_unescape "${line%%\"*}")
  fi
  if [ -z "$esl_password" ]; then
    esl_password=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
    [ ${#esl_password} -eq 32 ] || die "could not read /dev/urandom"
    esl_generated=yes
  fi
fi

declare -A V=(
  [GATEWAY_URL]=$(xml_escape "$url")
  [GATEWAY_URL2]=$(xml_escape "$url2")
  [TLS_VERIFY]=$(tls_verify "$url")
  [TLS_VERIFY2]=$(tls_verify "$url2")
  [CREDENTIALS]=$(xml_escape "$user:$password")
  [CDR_URL]=$(xml_escape "$cdr_url")
  [CDR_URL2]=$(xml_escape "$cdr_url2")
  [CDR_TLS_VERIFY]=false
  [ESL_PASSWORD]=$(xml_escape "$esl_password")
  [EXT_IP]=$ext_ip
  [INTERNAL_TLS]=$tls
  [SIP_PORT]=${PORTS[--sip-port]}
  [TLS_PORT]=${PORTS[--tls-port]}
  [CARRIER_PORT]=${PORTS[--carrier-port]}
  [ESL_PORT]=${PORTS[--esl-port]}
  [FS_DB_DSN]=$(xml_escape "$fs_db")
)
if [ "$(tls_verify "$cdr_url")" = true ] || [ "$(tls_verify "$cdr_url2")" = true ]; then
  V[CDR_TLS_VERIFY]=true
fi

# ------------------------------------------------------------------------------------------
# Render every template into a staging directory, and check it, before touching anything.
# ------------------------------------------------------------------------------------------
# block NAME VALUE: keeps the lines between @NAME_BEGIN@ and @NAME_END@ when VALUE is not empty,
# else drops them (stdin to stdout).
block() {
  if [ -n "$2" ]; then sed "/@$1_BEGIN@/d; /@$1_END@/d"; else sed "/@$1_BEGIN@/,/@$1_END@/d"; fi
}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for rel in "${TEMPLATES[@]}"; do
  src=$templates/$rel
  text=$(block URL2 "$url2" <"$src" | block FS_DB "$fs_db")
  for key in "${!V[@]}"; do
    text=${text//"@$key@"/"${V[$key]}"}
  done
  if [[ $text =~ @[A-Z0-9_]+@ ]]; then die "template $rel: unknown placeholder ${BASH_REMATCH[0]}"; fi
  mkdir -p "$(dirname "$stage/$rel")"
  printf '%s\n' "$text" >"$stage/$rel"
  head -n 1 "$stage/$rel" | grep -qF "$MARKER" || die "template $rel: the first line is not the LittlePBX marker"
  if have_validator; then xml_ok "$stage/$rel" || die "template $rel does not render to well-formed XML"; fi
done

# FreeSWITCH's own switch.conf.xml with the core-db-dsn line as --fs-db wants it.
if [ -f "$conf/$SWITCH_CONF" ]; then
  if [ -n "$fs_db" ] && active_core_db_lines | grep -qvF -- "$FS_DB_MARK"; then
    # Two would leave FreeSWITCH's choice to the order of the lines.
    die "$SWITCH_CONF already sets core-db-dsn itself: remove that line, or leave out --fs-db"
  fi
  switch_conf_with "$fs_db" >"$stage/switch.conf.xml"
  if [ -n "$fs_db" ] && [ "$(grep -cF -- "$FS_DB_MARK" "$stage/switch.conf.xml")" != 1 ]; then
    die "$SWITCH_CONF needs exactly one <settings> line of its own to put core-db-dsn after"
  fi
  if have_validator; then xml_ok "$stage/switch.conf.xml" || die "$SWITCH_CONF would not be well-formed XML"; fi
elif [ -n "$fs_db" ]; then
  die "--fs-db: $conf/$SWITCH_CONF does not exist"
fi

main_conf_with_channels >"$stage/$MAIN_CONF"
if [ "$(grep -cF -- "$CHANNELS_MARK" "$stage/$MAIN_CONF")" != 3 ]; then
  die "$MAIN_CONF needs a </document> line of its own to put the channels section before"
fi
if have_validator; then xml_ok "$stage/$MAIN_CONF" || die "$MAIN_CONF would not be well-formed XML"; fi

# The vanilla files to move away, and their place in the backup.
mapfile -d '' -t HOLES < <(foreign_files)
for rel in "${HOLES[@]}"; do
  if [ -e "$conf/$BACKUP/$rel" ] && ! cmp -s "$conf/$rel" "$conf/$BACKUP/$rel"; then
    die "$rel differs from the copy already in $BACKUP/$rel: move one of them away yourself"
  fi
done

# ------------------------------------------------------------------------------------------
# Install
# ------------------------------------------------------------------------------------------
umask 022
mkdir -p "$conf/$BACKUP"
chmod 700 "$conf/$BACKUP"
declare -A STATE_LINES=()
if [ -f "$conf/$STATE" ]; then
  while IFS= read -r line; do [ -n "$line" ] && STATE_LINES[$line]=1; done <"$conf/$STATE"
fi

moved=0
for rel in "${HOLES[@]}"; do
  if [ -e "$conf/$BACKUP/$rel" ]; then
    rm -f "$conf/$rel"
  else
    mkdir -p "$(dirname "$conf/$BACKUP/$rel")"
    mv "$conf/$rel" "$conf/$BACKUP/$rel"
  fi
  moved=$((moved + 1))
done

is_secret() {
  local s
  for s in "${SECRET_FILES[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}
changed=0 kept=0
for rel in "${TEMPLATES[@]}"; do
  dest=$conf/$rel
  dir=$(dirname "$rel")
  missing=()
  while [ "$dir" != . ] && [ ! -d "$conf/$dir" ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
  for dir in "${missing[@]}"; do mkdir "$conf/$dir"; STATE_LINES["dir $dir"]=1; done
  STATE_LINES["installed $rel"]=1
  if [ -f "$dest" ] && cmp -s "$stage/$rel" "$dest"; then
    kept=$((kept + 1))
  else
    if [ -e "$dest" ] || [ -L "$dest" ]; then
      if is_ours "$dest"; then
        :
      elif [ -e "$dest.littlepbx-orig" ]; then
        echo "fs-install: warning: $rel was changed by hand since LittlePBX installed it; replacing it" >&2
      else
        mv "$dest" "$dest.littlepbx-orig"
      fi
    fi
    cp "$stage/$rel" "$dest.littlepbx-new"
    mv -f "$dest.littlepbx-new" "$dest"
    changed=$((changed + 1))
  fi
  # Ownership and modes every run (they are not part of the content): the configuration tree's
  # owner; secrets readable by FreeSWITCH's group only.
  if [ "$(id -u)" = 0 ]; then chown --reference="$conf" "$dest"; fi
  if is_secret "$rel"; then
    if [ -n "$fs_group" ] && [ "$(id -u)" = 0 ]; then chgrp "$fs_group" "$dest"; fi
    chmod 640 "$dest"
  else
    chmod 644 "$dest"
  fi
done

# switch.conf.xml: edited in place (FreeSWITCH's own file), the original kept once. Back to the
# original when the DSN goes and nothing else changed.
switch=$conf/$SWITCH_CONF
if [ -f "$stage/switch.conf.xml" ] && ! cmp -s "$stage/switch.conf.xml" "$switch"; then
  if [ -z "$fs_db" ] && [ -f "$switch.littlepbx-orig" ] && cmp -s "$stage/switch.conf.xml" "$switch.littlepbx-orig"; then
    mv -f "$switch.littlepbx-orig" "$switch"
    unset 'STATE_LINES[edited $SWITCH_CONF]'
  else
    [ -e "$switch.littlepbx-orig" ] || cp -p "$switch" "$switch.littlepbx-orig"
    # Its owner and mode kept; not readable by others before the password is in it.
    cp -p "$switch" "$switch.littlepbx-new"
    if [ -n "$fs_db" ]; then chmod o-rwx "$switch.littlepbx-new"; fi
    cat "$stage/switch.conf.xml" >"$switch.littlepbx-new"
    mv -f "$switch.littlepbx-new" "$switch"
    STATE_LINES["edited $SWITCH_CONF"]=1
  fi
  changed=$((changed + 1))
fi
if [ -n "$fs_db" ]; then
  if [ -n "$fs_group" ] && [ "$(id -u)" = 0 ]; then chgrp "$fs_group" "$switch"; fi
  chmod o-rwx "$switch"
fi

# freeswitch.xml: edited in place like switch.conf.xml, the original kept once.
main=$conf/$MAIN_CONF
if ! cmp -s "$stage/$MAIN_CONF" "$main"; then
  [ -e "$main.littlepbx-orig" ] || cp -p "$main" "$main.littlepbx-orig"
  cp -p "$main" "$main.littlepbx-new"
  cat "$stage/$MAIN_CONF" >"$main.littlepbx-new"
  mv -f "$main.littlepbx-new" "$main"
  changed=$((changed + 1))
fi
STATE_LINES["edited $MAIN_CONF"]=1

printf '%s\n' "${!STATE_LINES[@]}" | sort >"$conf/$STATE.new"
mv -f "$conf/$STATE.new" "$conf/$STATE"

echo "fs-install: $changed file(s) written, $kept unchanged, $moved vanilla file(s) moved to $conf/$BACKUP" >&2
if [ -z "$fs_group" ]; then
  echo "fs-install: note: no FreeSWITCH group known: ${SECRET_FILES[*]} are mode 640; check that FreeSWITCH can read them (--fs-group)" >&2
fi
if [ -z "$fs_group" ] && [ -n "$fs_db" ]; then
  echo "fs-install: note: $SWITCH_CONF holds the database password too and is mode 640 now" >&2
fi
if [ -n "$fs_db" ]; then
  echo "fs-install: FreeSWITCH's database: $(dsn_without_password "$fs_db") (FreeSWITCH creates its tables there; CRIT \"doesn't exist\" lines on the first start are normal). A change of database needs a restart of FreeSWITCH: it opens its databases at start only" >&2
fi
if [ "$changed" -gt 0 ] || [ "$moved" -gt 0 ]; then
  echo "fs-install: restart FreeSWITCH to load the new modules and profiles (systemctl restart freeswitch)" >&2
fi

# What LittlePBX needs (its environment or littlepbx.toml).
echo "LITTLEPBX_FREESWITCH__ESL_ADDRESS=127.0.0.1:${PORTS[--esl-port]}"
echo "LITTLEPBX_FREESWITCH__SIP_PORT=${PORTS[--sip-port]}"
echo "LITTLEPBX_FREESWITCH__SIP_TLS_PORT=${PORTS[--tls-port]}"
if [ "$esl_generated" = yes ]; then
  echo "LITTLEPBX_FREESWITCH__ESL_PASSWORD=$esl_password"
  echo "fs-install: the event socket password above was generated now and is not printed again" >&2
elif [ "$esl_given" = no ]; then
  echo "fs-install: event socket password unchanged (in autoload_configs/event_socket.conf.xml)" >&2
fi
if [ -n "$moh_dir" ]; then echo "LITTLEPBX_FREESWITCH__DEFAULT_MOH_DIR=$moh_dir"; fi
