#!/usr/bin/env bash
# Records a terminal session of the llada CLI on the fixture model: drives it in tmux
# (send-keys / capture-pane) and writes the captured screens to Benchmarks/results/session.txt —
# a chat of two turns and a reset, --visual frames as the canvas fills, infill filling its holes,
# and the progress line of a long generation; the first line names the CPU and kernel level.
#
#   swift build -c release && bash Benchmarks/record-session.sh [OUT]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/Benchmarks/results/session.txt}
bin=$repo/.build/release
command -v tmux >/dev/null || { echo "error: tmux is not installed (apt-get install -y tmux)" >&2; exit 1; }
[ -x "$bin/llada" ] || { echo "error: $bin/llada is missing; run swift build -c release first" >&2; exit 1; }

work=$(mktemp -d)
sock=$work/tmux.sock
trap 'tmux -S "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
# Short names in the recorded commands: the packed q4 file and the checkpoint directory.
"$bin/llada-quantize" "$repo/Tests/Fixtures/llada-tiny-tasks" -o "$work/tiny-q4.lpk" --type q4 >/dev/null
ln -s "$repo/Tests/Fixtures/llada-tiny-tasks" "$work/tiny"

tmux -S "$sock" new-session -d -s rec -x 100 -y 24 -c "$work" \
    "env PATH='$bin:$PATH' PS1='$ ' TERM=xterm-256color bash --norc --noprofile"
screen() { tmux -S "$sock" capture-pane -p -t rec | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
enter() { tmux -S "$sock" send-keys -t rec -l "$1"; tmux -S "$sock" send-keys -t rec Enter; }
# Waits (up to 60 s) until the screen's last line matches $1.
wait_last() {
    for _ in $(seq 600); do
        screen | tail -n 1 | grep -q -- "$1" && return 0
        sleep 0.1
    done
    echo "error: timed out waiting for \"$1\"; screen:" >&2; screen >&2; exit 1
}
snap() { { echo "──── $1"; screen; echo; } >> "$tmp"; }
# Screens every $2 seconds while the command runs, each distinct one kept (the first $1).
frames() {
    local kept=0 last="" now
    for _ in $(seq 400); do
        now=$(screen)
        if [ "$now" != "$last" ] && echo "$now" | grep -q "░"; then
            { echo "──── frame $((kept + 1))"; echo "$now"; echo; } >> "$tmp"
            kept=$((kept + 1)); last=$now
        fi
        [ "$kept" -ge "$1" ] && break
        echo "$now" | tail -n 1 | grep -q '^\$$' && break
        sleep "$2"
    done
}
tmp=$work/session.txt
# The CPU and kernel level the session ran on (its tok/s figures depend on them).
{ echo "──── $(bash "$repo/Benchmarks/host.sh")"; echo; } > "$tmp"
wait_last '^\$$'

# 1. Chat: two turns (the fixture was trained on single-turn tasks, so its second answer is
#    poor), then /reset starts a new conversation.
enter "llada chat --model tiny-q4.lpk --gen-length 32 --steps 32 --block-length 32"
wait_last '^>$'
enter "reverse: daczsb"; sleep 0.3; wait_last '^>$'
enter "sort: 6 5 9 2 8"; sleep 0.3; wait_last '^>$'
enter "/settings"; sleep 0.3; wait_last '^>$'
enter "/reset"; sleep 0.3; wait_last '^>$'
enter "sort: 6 5 9 2 8"; sleep 0.3; wait_last '^>$'
enter "/quit"; wait_last '^\$$'
snap "chat"
tmux -S "$sock" send-keys -t rec C-l; sleep 0.3

# 2. --visual: the canvas of the f32 checkpoint (no cache: every step a full pass) while it fills.
enter "llada generate --model tiny --prompt 'sort: 6 5 9 2 8' --gen-length 32 --steps 32 --block-length 32 --visual --threads 1"
frames 8 0.06
wait_last '^\$$'
snap "after --visual (the canvas is erased, the answer stays)"
tmux -S "$sock" send-keys -t rec C-l; sleep 0.3

# 3. Infill: holes in an answer, and the JSON with each hole's fill.
enter "llada infill --model tiny-q4.lpk --prompt 'sort: 6 5 9 2 8' --text '2 [MASK*5] 9'"; sleep 0.3; wait_last '^\$$'
enter "llada infill --model tiny-q4.lpk --prompt 'reverse: daczsb' --text 'bs[MASK*2]ad' --json | grep -o '\"fills\":[^]]*]'"; sleep 0.3; wait_last '^\$$'
enter "llada infill --model tiny --text 'sort: [MASK*0]'"; sleep 0.3; wait_last '^\$$'
snap "infill"
tmux -S "$sock" send-keys -t rec C-l; sleep 0.3

# 4. Progress of a long generation (on a terminal stderr, after the first second). The fixture
#    answers well only at its trained length (32), so this long answer is junk.
enter "llada generate --model tiny --prompt 'sort: 6 5 9 2 8' --gen-length 224 --steps 224 --block-length 32 --no-early-stop --threads 1"
for _ in $(seq 100); do screen | grep -q "tok/s" && break; sleep 0.1; done
sleep 1
snap "progress (while running)"
wait_last '^\$$'
snap "progress (done: the line is erased)"

mv "$tmp" "$out"
echo "wrote $out"
