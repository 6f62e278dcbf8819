#!/usr/bin/env bash
# Peak memory of sending one message with a 1, 10 and 50 MB attachment (issue 5: "peak RSS stays
# flat with size"). Three senders, each measured with /usr/bin/time -v (maximum resident set size)
# against Postfix's smtp-sink on a free loopback port:
#   - msc-send send --attach FILE  (static release build: composes and base64-encodes while sending)
#   - msmtp, sending the same message prepared beforehand (msc-send's outbox wrote it)
#   - msc-send -t, sendmail mode, sending that prepared message from standard input
# Each run is repeated RUNS times (default 3); the table shows the median. Results are appended to
# bench/RESULTS.md under "## Attachments".
#
#   bench/attachment.sh                       # builds the static release binary into .build first
#   MSC_SEND_BINARY=path/to/msc-send bench/attachment.sh
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
SIZES_MB=${SIZES_MB:-"1 10 50"}
SINK=/usr/sbin/smtp-sink
for tool in "$SINK" /usr/bin/time msmtp python3; do
  command -v "$tool" >/dev/null || { echo "bench/attachment.sh: $tool is missing (run .ci/run)" >&2; exit 1; }
done

BIN=${MSC_SEND_BINARY:-}
if [ -z "$BIN" ]; then
  SCRATCH=${SCRATCH:-.build}
  swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" >&2
  BIN="$(swift build -c release --static-swift-stdlib --scratch-path "$SCRATCH" --show-bin-path)/msc-send"
fi

WORK=$(mktemp -d)
SINK_PID=""
cleanup() {
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SINK_USER=()
if [ "$(id -u)" -eq 0 ]; then SINK_USER=(-u nobody); fi
"$SINK" "${SINK_USER[@]}" "127.0.0.1:$PORT" 100 &
SINK_PID=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1).close()" 2>/dev/null && break
  sleep 0.1
done

# An empty home: no personal config, msmtprc or outbox is read.
export HOME="$WORK/home" XDG_CONFIG_HOME="$WORK/home/config" XDG_DATA_HOME="$WORK/home/data"
mkdir -p "$HOME"
unset MSC_SEND_CONFIG

# measure LABEL COMMAND...: runs the command RUNS times; prints "median_rss_kb median_seconds".
measure() {
  local rss=() secs=()
  for _ in $(seq "$RUNS"); do
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >"$WORK/out.txt" 2>"$WORK/err.txt" || {
      echo "bench/attachment.sh: failed: $*" >&2; cat "$WORK/err.txt" >&2; exit 1; }
    rss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")")
    secs+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt" | awk -F: '{print ($1 * 60) + $2}')")
  done
  local mid=$(( (RUNS + 1) / 2 ))
  echo "$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "${mid}p") $(printf '%s\n' "${secs[@]}" | sort -g | sed -n "${mid}p")"
}

mb() { awk -v kb="$1" 'BEGIN { printf "%.1f", kb / 1024 }'; }

ROWS=""
for size in $SIZES_MB; do
  file="$WORK/attachment-${size}MB.bin"
  head -c "$((size * 1024 * 1024))" /dev/urandom >"$file"
  send=(send --server "127.0.0.1:$PORT" --tls none --timeout 60 --from bench@acme.test --to sink@example.test
    --subject "attachment $size MB" --body "see attachment" --attach "$file")
  read -r ours_rss ours_s < <(measure "$BIN" "${send[@]}")

  # The same message, prepared once into the outbox (no config: the embedded file channel).
  rm -rf "$XDG_DATA_HOME"
  "$BIN" send --from bench@acme.test --to sink@example.test --subject "attachment $size MB" \
    --body "see attachment" --attach "$file" --quiet
  message=$(ls "$XDG_DATA_HOME"/msc-send/outbox/*.eml)
  msg_mb=$(awk -v b="$(stat -c %s "$message")" 'BEGIN { printf "%.1f", b / 1048576 }')
  read -r msmtp_rss msmtp_s < <(measure sh -c 'exec msmtp --host=127.0.0.1 --port="$1" --auth=off --tls=off \
    --from=bench@acme.test -- sink@example.test <"$2"' msmtp "$PORT" "$message")

  config="$WORK/config.toml"
  printf '[channels.sink]\nkind = "smtp"\nhost = "127.0.0.1"\nport = %s\ntls = "none"\ntimeout = 60\nidentities = ["*"]\n' \
    "$PORT" >"$config"
  read -r sendmail_rss sendmail_s < <(measure sh -c 'exec "$1" -t -i -C "$2" <"$3"' sendmail "$BIN" "$config" "$message")

  ROWS+="| $size MB | $msg_mb MB | $(mb "$ours_rss") MB, ${ours_s} s | $(mb "$msmtp_rss") MB, ${msmtp_s} s"
  ROWS+=" | $(mb "$sendmail_rss") MB, ${sendmail_s} s |"$'\n'
  echo "$size MB: msc-send send $(mb "$ours_rss") MB; msmtp $(mb "$msmtp_rss") MB; msc-send -t $(mb "$sendmail_rss") MB" >&2
done

RESULTS=bench/RESULTS.md
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nRecorded by the scripts in bench/; newest run of each section last.\n' >"$RESULTS"
grep -q '^## Attachments' "$RESULTS" || cat >>"$RESULTS" <<'INTRO'

## Attachments

`bench/attachment.sh`: peak RSS (`/usr/bin/time -v`, maximum resident set size) and wall time, median
of the runs, for one message with a random attachment of each size sent to Postfix `smtp-sink` on
loopback, msc-send being the static release build (`swift build -c release --static-swift-stdlib`).
`msc-send send --attach` composes the message and base64-encodes the file while sending;
msmtp and `msc-send -t` (sendmail mode) send the same message, prepared beforehand, from standard
input. The issue's goal: `send` under 25 MB at 50 MB, within 5 MB of the 1 MB run.
INTRO
{
  echo
  echo "### $(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -m), $(nproc) cores, $(msmtp --version | head -n 1), $RUNS runs"
  echo
  echo "| attachment | message | msc-send send --attach | msmtp (prepared message) | msc-send -t (prepared message) |"
  echo "|---|---|---|---|---|"
  printf '%s' "$ROWS"
} >>"$RESULTS"
echo "appended to $RESULTS" >&2
