#!/usr/bin/env bash
# Removes the LittlePBX database and its user from MariaDB/MySQL. Destroys every org's data.
#
#   scripts/db-drop.sh --yes [--database littlepbx] [--user littlepbx] [--user-host localhost] [-- CLIENT OPTIONS...]
set -euo pipefail

database=littlepbx user=littlepbx user_host=localhost confirmed=no
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --user-host) user_host=$2; shift 2 ;;
    --yes) confirmed=yes; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ "$confirmed" = yes ] || { echo "this deletes the database $database and every org in it; add --yes to confirm" >&2; exit 2; }
[[ "$database" =~ ^[A-Za-z0-9_]{1,32}$ && "$user" =~ ^[A-Za-z0-9_]{1,32}$ ]] || { echo "invalid database or user name" >&2; exit 2; }
[[ "$user_host" =~ ^[A-Za-z0-9_.%:-]{1,255}$ ]] || { echo "invalid user host" >&2; exit 2; }

client=$(command -v mariadb || command -v mysql || true)
[ -n "$client" ] || { echo "the mariadb (or mysql) client is not installed" >&2; exit 1; }
"$client" --no-defaults --batch "$@" -e "DROP DATABASE IF EXISTS \`$database\`; DROP USER IF EXISTS '$user'@'$user_host'; FLUSH PRIVILEGES;"
echo "removed database $database and user $user@$user_host"
