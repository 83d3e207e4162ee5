#!/usr/bin/env bash
# Creates the LittlePBX database and its user on MariaDB/MySQL, with the grants LittlePBX needs.
# Idempotent: run it again to re-apply the grants (and set a new password if one is given).
#
#   scripts/db-create.sh [--database littlepbx] [--user littlepbx] [--user-host localhost]
#                        [--url-host 127.0.0.1] [--url-port 3306] [-- CLIENT OPTIONS...]
#
# The password comes from LITTLEPBX_DB_PASSWORD; without it a password is generated for a new user
# and printed once. CLIENT OPTIONS are passed to the `mariadb`/`mysql` client to reach the server as
# an administrator, e.g. `-- --socket=/run/mysqld/mysqld.sock -uroot` or `-- -h db -uroot -p`.
# Prints the LITTLEPBX_DATABASE_URL to use.
set -euo pipefail

database=littlepbx user=littlepbx user_host=localhost url_host=127.0.0.1 url_port=3306
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --user-host) user_host=$2; shift 2 ;;
    --url-host) url_host=$2; shift 2 ;;
    --url-port) url_port=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

valid_name() { [[ "$1" =~ ^[A-Za-z0-9_]{1,32}$ ]]; }
valid_name "$database" || { echo "database name: 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
valid_name "$user" || { echo "user name: 1-32 of A-Z a-z 0-9 _" >&2; exit 2; }
[[ "$user_host" =~ ^[A-Za-z0-9_.%:-]{1,255}$ ]] || { echo "user host: a host name, address or %" >&2; exit 2; }

client=$(command -v mariadb || command -v mysql || true)
[ -n "$client" ] || { echo "the mariadb (or mysql) client is not installed (Debian: mariadb-client)" >&2; exit 1; }
sql() { "$client" --no-defaults --batch --skip-column-names "$@" ; }

exists=$(sql "$@" -e "SELECT COUNT(*) FROM mysql.user WHERE User='$user' AND Host='$user_host'")
password=${LITTLEPBX_DB_PASSWORD:-}
generated=no
if [ -z "$password" ] && [ "$exists" = 0 ]; then
  password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
  generated=yes
fi
# Quote for SQL: the password is inside single quotes, so double any single quote and backslash.
quoted=$(printf '%s' "$password" | sed -e "s/\\\\/\\\\\\\\/g" -e "s/'/''/g")

statements="CREATE DATABASE IF NOT EXISTS \`$database\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
if [ "$exists" = 0 ]; then
  statements+=" CREATE USER '$user'@'$user_host' IDENTIFIED BY '$quoted';"
elif [ -n "$password" ]; then
  statements+=" ALTER USER '$user'@'$user_host' IDENTIFIED BY '$quoted';"
fi
statements+=" GRANT ALL PRIVILEGES ON \`$database\`.* TO '$user'@'$user_host'; FLUSH PRIVILEGES;"
sql "$@" -e "$statements"

if [ -n "$password" ]; then
  encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$password" 2>/dev/null || printf '%s' "$password")
  echo "LITTLEPBX_DATABASE_URL=mysql://$user:$encoded@$url_host:$url_port/$database"
  if [ "$generated" = yes ]; then echo "(the password was generated and is shown only now)" >&2; fi
else
  echo "LITTLEPBX_DATABASE_URL=mysql://$user:<unchanged password>@$url_host:$url_port/$database"
  echo "(user $user@$user_host existed: password unchanged; set LITTLEPBX_DB_PASSWORD to change it)" >&2
fi
