# Sourced by every stand-in: appends "tool<TAB>arg<TAB>arg…" to $STANDIN_DIR/calls, and for calls
# `docker exec -i` appends what arrived on stdin to $STANDIN_DIR/stdin after a header line.
# The caller's PATH holds only the stand-ins; the scripts themselves need coreutils.
PATH="$PATH:/usr/bin:/bin"
S="$STANDIN_DIR"
line="${0##*/}"
for a in "$@"; do line+=$'\t'"$a"; done
printf '%s\n' "$line" >> "$S/calls"
if [[ ${0##*/} == docker && $1 == exec && $2 == -i ]]; then
  printf '=== %s\n' "$line" >> "$S/stdin"
  while IFS= read -r l || [[ -n $l ]]; do printf '%s\n' "$l"; done >> "$S/stdin"
fi
