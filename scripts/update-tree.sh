#!/usr/bin/env bash
# update-tree.sh FROM TO: copies FROM (a file) to TO, or each file under FROM (a directory) to
# the same place under TO, unless the file there already holds the same bytes, so that
# unchanged files keep their times (capos embeds the site and is rebuilt when a file of it is
# touched: capos-cli/build.rs).
set -euo pipefail
from=$1 to=$2
if [ -f "$from" ]; then
  cmp -s "$from" "$to" || cp "$from" "$to"
  exit 0
fi
cd "$from"
find . -type f -print0 | while IFS= read -r -d '' f; do
  mkdir -p "$to/$(dirname "$f")"
  cmp -s "$f" "$to/$f" || cp "$f" "$to/$f"
done
