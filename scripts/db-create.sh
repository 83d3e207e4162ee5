#!/usr/bin/env bash
# Creates the LittlePBX database and its user on MariaDB/MySQL, with the grants LittlePBX needs.
# Idempotent: run it again to re-apply the grants (and set a new password if one is given).
#
#   scripts/db-create.sh [--database littlepbx] [--user littlepbx] [--user-host localhost]
#                        [--url-host 127.0.0.1] [--url-port 3306]
#                        [--fs-database NAME [--fs-user freeswitch] [--fs-reader USER_fsread]]
#                        [-- CLIENT OPTIONS...]
#
# The password comes from LITTLEPBX_DB_PASSWORD; without it a password is generated for a new user
# and printed once. CLIENT OPTIONS are passed to the `mariadb`/`mysql` client to reach the server as
# an administrator, e.g. `-- --socket=/run/mysqld/mysqld.sock -uroot` or `-- -h db -uroot -p`.
# Prints the LITTLEPBX_DATABASE_URL to use.
#
# --fs-database also creates FreeSWITCH's own database (core and SIP profile tables, e.g.
# sip_registrations; FreeSWITCH creates them itself) with two users: --fs-user (ALL on that database
# only; password LITTLEPBX_FS_DB_PASSWORD) for FreeSWITCH, and --fs-reader (SELECT only; password
# LITTLEPBX_FS_READER_PASSWORD) for LittlePBX to read registrations. Passwords: as above. It then
# also prints LITTLEPBX_FREESWITCH__DB_URL (the reader), FS_DB_DSN (for scripts/fs-install.sh
# --fs-db, without the password) and LITTLEPBX_FS_DB_PASSWORD when that one was generated now.
# The FreeSWITCH user's password ends up in a mod_mariadb DSN inside XML: it must not hold
# ; = " ' < > & $ @ \, spaces or control characters (a generated one never does).
set -euo pipefail

database=littlepbx user=littlepbx user_host=localhost url_host=127.0.0.1 url_port=3306
fs_database='' fs_user=freeswitch fs_reader=''
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --user-host) user_host=$2; shift 2 ;;
    --url-host) url_host=$2; shift 2 ;;
    --url-port) url_port=$2; shift 2 ;;
    --fs-database) fs_database=$2; shift 2 ;;
    --fs-user) fs_user=$2; shift 2 ;;
    --fs-reader) fs_reader=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$fs_reader" ] || fs_reader=${user}_fsread

valid_name() { [[ "$1" =~ ^[A-Za-z0-9_]{1,32}$ ]]; }
valid_name "$database" || { echo "database name: 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
valid_name "$user" || { echo "user name: 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
[[ "$user_host" =~ ^[A-Za-z0-9_.%:-]{1,255}$ ]] || { echo "user host: a host name, address or %" >&2; exit 2; }

# FreeSWITCH's part: checked completely before anything reaches the server.
fs_password=${LITTLEPBX_FS_DB_PASSWORD:-} fs_reader_password=${LITTLEPBX_FS_READER_PASSWORD:-}
if [ -n "$fs_database" ]; then
  valid_name "$fs_database" || { echo "FreeSWITCH database name (--fs-database): 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
  valid_name "$fs_user" || { echo "FreeSWITCH user name (--fs-user): 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
  valid_name "$fs_reader" || { echo "FreeSWITCH reader name (--fs-reader): 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
  # Separate databases and users, or the grants below would mix them: FreeSWITCH's user must not
  # reach LittlePBX's data, and the reader must stay read-only.
  [ "$fs_database" != "$database" ] || { echo "--fs-database must differ from --database" >&2; exit 2; }
  if [ "$fs_user" = "$user" ] || [ "$fs_reader" = "$user" ] || [ "$fs_user" = "$fs_reader" ]; then
    echo "--user, --fs-user and --fs-reader must be three different users" >&2; exit 2
  fi
  # Both go into FS_DB_DSN (mod_mariadb splits it at ';' and '=').
  [[ "$url_host" =~ ^[A-Za-z0-9_.:-]{1,255}$ ]] || { echo "url host: a host name or address" >&2; exit 2; }
  [[ "$url_port" =~ ^[0-9]{1,5}$ ]] || { echo "url port: a number" >&2; exit 2; }
  # The password goes into mod_mariadb's DSN (split at ';', then at '=') inside an XML attribute
  # that FreeSWITCH's preprocessor expands ($${...}); scripts/fs-install.sh refuses the same set.
  if [[ "$fs_password" =~ [[:cntrl:][:space:]\;=\"\'\<\>\&\$@\\] ]]; then
    echo "LITTLEPBX_FS_DB_PASSWORD must not contain ; = \" ' < > & \$ @ \\, spaces or control characters (it goes into FreeSWITCH's DSN and XML); nothing was done" >&2
    exit 2
  fi
fi

client=$(command -v mariadb || command -v mysql || true)
[ -n "$client" ] || { echo "the mariadb (or mysql) client is not installed (Debian: mariadb-client)" >&2; exit 1; }
sql() { "$client" --no-defaults --batch --skip-column-names "$@" ; }

# A new random password: 24 characters of A-Z a-z 0-9 - _ (18 bytes make base64 without '=').
new_password() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
# Quote for SQL: the password is inside single quotes, so double any single quote and backslash.
sql_quote() { printf '%s' "$1" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/''/g"; }
url_encode() {
  python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1" 2>/dev/null ||
    printf '%s' "$1"
}
# user_exists NAME CLIENT-OPTIONS...: prints 0 or 1 (the name is valid_name'd, the host checked).
user_exists() {
  local name=$1
  shift
  sql "$@" -e "SELECT COUNT(*) FROM mysql.user WHERE User='$name' AND Host='$user_host'"
}
# user_statements NAME PASSWORD EXISTS: create the user, or set the password given for one that
# exists (none given: unchanged).
user_statements() {
  if [ "$3" = 0 ]; then
    printf " CREATE USER '%s'@'%s' IDENTIFIED BY '%s';" "$1" "$user_host" "$(sql_quote "$2")"
  elif [ -n "$2" ]; then
    printf " ALTER USER '%s'@'%s' IDENTIFIED BY '%s';" "$1" "$user_host" "$(sql_quote "$2")"
  fi
}

exists=$(user_exists "$user" "$@")
password=${LITTLEPBX_DB_PASSWORD:-}
generated=no
if [ -z "$password" ] && [ "$exists" = 0 ]; then
  password=$(new_password)
  generated=yes
fi

statements="CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
statements+=$(user_statements "$user" "$password" "$exists")
statements+=" GRANT ALL PRIVILEGES ON \`$database\`.* TO '$user'@'$user_host';"

fs_generated=no fs_reader_generated=no
if [ -n "$fs_database" ]; then
  fs_exists=$(user_exists "$fs_user" "$@")
  fs_reader_exists=$(user_exists "$fs_reader" "$@")
  if [ -z "$fs_password" ] && [ "$fs_exists" = 0 ]; then
    fs_password=$(new_password)
    fs_generated=yes
  fi
  if [ -z "$fs_reader_password" ] && [ "$fs_reader_exists" = 0 ]; then
    fs_reader_password=$(new_password)
    fs_reader_generated=yes
  fi
  # FreeSWITCH creates and alters its own tables (ALL on its database, nothing else); LittlePBX
  # only reads them (SELECT).
  statements+=" CREATE DATABASE IF NOT EXISTS \`$fs_database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
  statements+=$(user_statements "$fs_user" "$fs_password" "$fs_exists")
  statements+=$(user_statements "$fs_reader" "$fs_reader_password" "$fs_reader_exists")
  statements+=" GRANT ALL PRIVILEGES ON \`$fs_database\`.* TO '$fs_user'@'$user_host';"
  statements+=" GRANT SELECT ON \`$fs_database\`.* TO '$fs_reader'@'$user_host';"
fi
statements+=" FLUSH PRIVILEGES;"
sql "$@" -e "$statements"

if [ -n "$password" ]; then
  echo "LITTLEPBX_DATABASE_URL=mysql://$user:$(url_encode "$password")@$url_host:$url_port/$database"
  if [ "$generated" = yes ]; then echo "(the password was generated and is shown only now)" >&2; fi
else
  echo "LITTLEPBX_DATABASE_URL=mysql://$user:<unchanged password>@$url_host:$url_port/$database"
  echo "(user $user@$user_host existed: password unchanged; set LITTLEPBX_DB_PASSWORD to change it)" >&2
fi

if [ -n "$fs_database" ]; then
  if [ -n "$fs_reader_password" ]; then
    echo "LITTLEPBX_FREESWITCH__DB_URL=mysql://$fs_reader:$(url_encode "$fs_reader_password")@$url_host:$url_port/$fs_database"
    if [ "$fs_reader_generated" = yes ]; then
      echo "(the password of the reader $fs_reader was generated and is shown only now)" >&2
    fi
  else
    echo "LITTLEPBX_FREESWITCH__DB_URL=mysql://$fs_reader:<unchanged password>@$url_host:$url_port/$fs_database"
    echo "(user $fs_reader@$user_host existed: password unchanged; set LITTLEPBX_FS_READER_PASSWORD to change it)" >&2
  fi
  # No password in the DSN: scripts/fs-install.sh takes it from LITTLEPBX_FS_DB_PASSWORD or a file.
  echo "FS_DB_DSN=mariadb://Server=$url_host;Port=$url_port;Database=$fs_database;Uid=$fs_user;"
  if [ "$fs_generated" = yes ]; then
    echo "LITTLEPBX_FS_DB_PASSWORD=$fs_password"
    echo "(the password of FreeSWITCH's user $fs_user was generated and is shown only now: give it to scripts/fs-install.sh --fs-db as LITTLEPBX_FS_DB_PASSWORD or with --fs-db-password-file)" >&2
  elif [ -z "${LITTLEPBX_FS_DB_PASSWORD:-}" ]; then
    echo "(user $fs_user@$user_host existed: password unchanged; set LITTLEPBX_FS_DB_PASSWORD to change it)" >&2
  fi
fi
