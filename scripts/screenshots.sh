#!/usr/bin/env bash
# Makes screenshots/*.png from real runs of `icestat demo` in tmux: capture-pane with escapes, then
# scripts/ansi2png.py (pyte + Pillow, from PyPI; DejaVu fonts from Debian). Run again after any dashboard change.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v tmux >/dev/null || { apt-get update -qq && apt-get install -y -qq tmux; }
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] || { apt-get update -qq && apt-get install -y -qq fonts-dejavu-core; }
python3 -c "import pyte, PIL" 2>/dev/null || python3 -m pip install -q pyte pillow

swift build -c release >/dev/null
bin="$(swift build -c release --show-bin-path)/icestat"
out=screenshots
mkdir -p "$out"
tmp=$(mktemp -d)
sock="$tmp/status.sock"
srv="icestat-shots-$$"
t() { tmux -L "$srv" -f /dev/null "$@"; }
trap 't kill-server 2>/dev/null || true; rm -rf "$tmp"' EXIT

cols=118 rows=22
t new-session -d -s shots -x $cols -y $rows "env -u NO_COLOR TERM=xterm-256color LANG=C.UTF-8 $bin demo --socket $sock"
shot() { # name columns rows
  t capture-pane -p -e -t shots > "$tmp/$1.ansi"
  python3 scripts/ansi2png.py "$tmp/$1.ansi" "$out/$1.png" "$2" "$3"
  echo "wrote $out/$1.png"
}
wait_for() { # text
  for _ in $(seq 1 100); do t capture-pane -p -t shots | grep -qF "$1" && return 0; sleep 0.2; done
  echo "timed out waiting for: $1" >&2; t capture-pane -p -t shots >&2; return 1
}

wait_for "peers 3/8 connected"
shot connecting $cols $rows
# The busy peers direct, delta and foxtrot relayed through the demo's coturn, echo and golf lazy and Idle again.
wait_for "peers 6/8 connected   P2P 4   relayed 2"
sleep 1
shot overview $cols $rows
# delta's details: relayed, why, and its latest events (a taller window, for them all).
t resize-window -t shots -x $cols -y 34
t send-keys -t shots j j j Enter
sleep 1.5
shot detail $cols 34
t send-keys -t shots Escape
t resize-window -t shots -x $cols -y $rows
# hotel's remote leaves at 12 s and is back at 18 s: the event log tells it.
wait_for "peers 7/8 connected"
sleep 2
t send-keys -t shots e
sleep 1
shot events $cols $rows
t send-keys -t shots Escape '?'
sleep 0.5
shot help $cols $rows
t send-keys -t shots '?' /; t send-keys -t shots -l "a"; t send-keys -t shots Enter l
sleep 0.8
shot filter $cols $rows
t send-keys -t shots Escape n
t resize-window -t shots -x 36 -y 7
sleep 0.8
shot small 36 7
t send-keys -t shots q
