#!/usr/bin/env bash
# Undoes scripts/fs-install.sh in a FreeSWITCH configuration directory: puts every file it
# replaced (FILE.littlepbx-orig) and every vanilla file it moved away (DIR/.littlepbx-backup/)
# back where it was, deletes the files it added and the directories it created, and takes the
# core-db-dsn line of --fs-db out of switch.conf.xml (its original back). The tree is then byte for
# byte what it was before the first install (switch.conf.xml changed by hand since keeps those
# changes).
#
#   scripts/fs-remove.sh --fs-conf-dir DIR
#
# Refuses, changing nothing, when a file it would put back has meanwhile been created again with
# other content. Running it again finds nothing to do. Restart FreeSWITCH afterwards.
set -euo pipefail
export LC_ALL=C

BACKUP=.littlepbx-backup
STATE=$BACKUP/state
MARKER='<!-- LittlePBX: installed by scripts/fs-install.sh'
# The line fs-install.sh --fs-db adds to FreeSWITCH's switch.conf.xml ends with this (a regex here).
FS_DB_MARK_RE='<!-- LittlePBX: FreeSWITCH database (fs-install\.sh fs-db) -->'
CHANNELS_MARK_RE='<!-- LittlePBX: channels section (fs-install\.sh) -->'

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; }
die() { echo "fs-remove: $*" >&2; exit 1; }
bad() { echo "fs-remove: $*" >&2; exit 2; }

conf=''
while [ $# -gt 0 ]; do
  case "$1" in
    --fs-conf-dir) [ $# -ge 2 ] || bad "--fs-conf-dir needs a value"; conf=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) bad "unknown option $1 (see --help)" ;;
  esac
done
[ -n "$conf" ] || bad "--fs-conf-dir is required (see --help)"
[ -d "$conf" ] || bad "--fs-conf-dir $conf is not a directory"
conf=$(cd "$conf" && pwd)

if [ ! -f "$conf/$STATE" ]; then
  echo "fs-remove: nothing to do: no LittlePBX installation recorded in $conf/$STATE" >&2
  exit 0
fi

installed=() created=() edited=()
while IFS= read -r line; do
  case $line in
    "installed "*) installed+=("${line#installed }") ;;
    "dir "*) created+=("${line#dir }") ;;
    "edited "*) edited+=("${line#edited }") ;;
    '') ;;
    *) die "unexpected line in $STATE: $line" ;;
  esac
done <"$conf/$STATE"
for rel in "${installed[@]}" "${created[@]}" "${edited[@]}"; do
  # The state file is ours, but never follow it out of the tree.
  [[ $rel == /* || /$rel/ == */../* ]] && die "unsafe path in $STATE: $rel"
done

# Vanilla files to put back, relative to the configuration directory.
mapfile -d '' -t SAVED < <(cd "$conf/$BACKUP" && find . \( -type f -o -type l \) ! -path ./state -print0 |
  sed -z 's|^\./||' | sort -z)

# Refuse before changing anything.
for rel in "${SAVED[@]}"; do
  if { [ -e "$conf/$rel" ] || [ -L "$conf/$rel" ]; } && ! cmp -s "$conf/$BACKUP/$rel" "$conf/$rel"; then
    die "$rel exists again with other content than its saved copy $BACKUP/$rel: move one of them away yourself"
  fi
done

for rel in "${installed[@]}"; do
  dest=$conf/$rel
  if [ -f "$dest" ] && ! head -n 1 "$dest" | grep -qF "$MARKER"; then
    echo "fs-remove: warning: $rel was changed by hand after the install; it is removed all the same" >&2
  fi
  if [ -e "$dest.littlepbx-orig" ] || [ -L "$dest.littlepbx-orig" ]; then
    mv -f "$dest.littlepbx-orig" "$dest"
  else
    rm -f "$dest"
  fi
done

# FreeSWITCH's own files edited in place (switch.conf.xml by --fs-db): the original comes back
# when the file is otherwise as it was; a file changed since keeps those changes and loses only
# LittlePBX's line.
stripped=$(mktemp)
trap 'rm -f "$stripped"' EXIT
for rel in "${edited[@]}"; do
  dest=$conf/$rel orig=$conf/$rel.littlepbx-orig
  if [ ! -e "$dest" ]; then
    if [ -e "$orig" ]; then mv "$orig" "$dest"; fi
    continue
  fi
  sed -e "/$FS_DB_MARK_RE/d" -e "/$CHANNELS_MARK_RE/d" "$dest" >"$stripped"
  if [ -f "$orig" ] && cmp -s "$stripped" "$orig"; then
    mv -f "$orig" "$dest"
  else
    if ! cmp -s "$stripped" "$dest"; then
      cp -p "$dest" "$dest.littlepbx-new"
      cat "$stripped" >"$dest.littlepbx-new"
      mv -f "$dest.littlepbx-new" "$dest"
    fi
    if [ -e "$orig" ]; then
      echo "fs-remove: note: $rel was changed since the install: only LittlePBX's line was removed; the file as it was before is kept as $rel.littlepbx-orig" >&2
    fi
  fi
done

for rel in "${SAVED[@]}"; do
  if [ -e "$conf/$rel" ] || [ -L "$conf/$rel" ]; then
    rm -f "$conf/$BACKUP/$rel"
  else
    mkdir -p "$(dirname "$conf/$rel")"
    mv "$conf/$BACKUP/$rel" "$conf/$rel"
  fi
done

# Directories the install created, deepest first, when empty.
if [ ${#created[@]} -gt 0 ]; then
  mapfile -t created < <(printf '%s\n' "${created[@]}" | sort -r)
  for rel in "${created[@]}"; do
    rmdir "$conf/$rel" 2>/dev/null || echo "fs-remove: note: $rel is not empty; left in place" >&2
  done
fi

rm -f "$conf/$STATE"
find "$conf/$BACKUP" -depth -type d -empty -delete
[ ! -e "$conf/$BACKUP" ] || die "$conf/$BACKUP is not empty after the restore; look at what is left there"

echo "fs-remove: restored ${#SAVED[@]} vanilla file(s), removed or restored ${#installed[@]} LittlePBX file(s); restart FreeSWITCH" >&2
