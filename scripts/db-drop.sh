#!/usr/bin/env bash
# Removes the LittlePBX database and its user from MariaDB/MySQL. Destroys every org's data.
#
#   scripts/db-drop.sh --yes [--database littlepbx] [--user littlepbx] [--user-host localhost]
#                      [--fs-database NAME [--fs-user freeswitch] [--fs-reader USER_fsread]]
#                      [-- CLIENT OPTIONS...]
#
# --fs-database also drops FreeSWITCH's database and its two users as scripts/db-create.sh
# --fs-database made them (stop FreeSWITCH first: it keeps its registrations and calls there).
set -euo pipefail

database=littlepbx user=littlepbx user_host=localhost confirmed=no
fs_database='' fs_user=freeswitch fs_reader=''
while [ $# -gt 0 ]; do
  case "$1" in
    --database) database=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --user-host) user_host=$2; shift 2 ;;
    --fs-database) fs_database=$2; shift 2 ;;
    --fs-user) fs_user=$2; shift 2 ;;
    --fs-reader) fs_reader=$2; shift 2 ;;
    --yes) confirmed=yes; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -n "$fs_reader" ] || fs_reader=${user}_fsread
what="the database $database and every org in it"
if [ -n "$fs_database" ]; then what+=", and FreeSWITCH's database $fs_database"; fi
[ "$confirmed" = yes ] || { echo "this deletes $what; add --yes to confirm" >&2; exit 2; }
[[ "$database" =~ ^[A-Za-z0-9_]{1,32}$ && "$user" =~ ^[A-Za-z0-9_]{1,32}$ ]] || { echo "invalid database or user name" >&2; exit 2; }
[[ "$user_host" =~ ^[A-Za-z0-9_.%:-]{1,255}$ ]] || { echo "invalid user host" >&2; exit 2; }
if [ -n "$fs_database" ]; then
  [[ "$fs_database" =~ ^[A-Za-z0-9_]{1,32}$ && "$fs_user" =~ ^[A-Za-z0-9_]{1,32}$ &&
    "$fs_reader" =~ ^[A-Za-z0-9_]{1,32}$ ]] ||
    { echo "invalid FreeSWITCH database, user or reader name" >&2; exit 2; }
fi

client=$(command -v mariadb || command -v mysql || true)
[ -n "$client" ] || { echo "the mariadb (or mysql) client is not installed" >&2; exit 1; }
statements="DROP DATABASE IF EXISTS \`$database\`; DROP USER IF EXISTS '$user'@'$user_host';"
if [ -n "$fs_database" ]; then
  statements+=" DROP DATABASE IF EXISTS \`$fs_database\`; DROP USER IF EXISTS '$fs_user'@'$user_host';"
  statements+=" DROP USER IF EXISTS '$fs_reader'@'$user_host';"
fi
"$client" --no-defaults --batch "$@" -e "$statements FLUSH PRIVILEGES;"
echo "removed database $database and user $user@$user_host"
if [ -n "$fs_database" ]; then
  echo "removed FreeSWITCH's database $fs_database and users $fs_user@$user_host, $fs_reader@$user_host"
fi
