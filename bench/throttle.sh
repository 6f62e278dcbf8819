#!/bin/sh
# bench/throttle.sh: the Office 365 profile scaled in time (30 messages per 6 s instead of per
# minute), 300 messages, each sent by its own `msc-send send` process, PARALLEL of them alive at
# once (cron jobs and scripts racing), all sharing one ledger. A loopback server logs when each
# message arrived. Checks: no 6 s window holds more than 30 arrivals; every message arrived; and
# the span from first to last arrival against the theoretical minimum: (300/30 - 1) * 6 s = 54 s
# after the 30th arrival (the 300th message cannot arrive earlier without some 6 s window holding
# 31), reported both from the first arrival (as if the first batch took no time) and from the 30th
# (the first batch takes what process start-up and SMTP take on this machine).
#
#   bench/throttle.sh                      # uses .build/release/msc-send (swift build -c release)
#   MSC_SEND=path/to/msc-send MESSAGES=300 PARALLEL=60 bench/throttle.sh
#
# Needs python3 (standard library only) for the server and the analysis.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
MSC_SEND=${MSC_SEND:-$ROOT/.build/release/msc-send}
MESSAGES=${MESSAGES:-300}
PARALLEL=${PARALLEL:-40}
LIMIT=${LIMIT:-30}
WINDOW=${WINDOW:-6}
PYTHON=${PYTHON:-python3}

[ -x "$MSC_SEND" ] || { echo "no msc-send at $MSC_SEND: swift build -c release, or set MSC_SEND" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/msc-send-throttle-bench.XXXXXX")
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$PYTHON" "$ROOT/Tests/Servers/fault_server.py" --scenario accept --port 0 --log "$WORK/arrivals.log" \
  >"$WORK/server.out" 2>"$WORK/server.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 100); do
  PORT=$(sed -n 's/^READY \([0-9]*\)$/\1/p' "$WORK/server.out")
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "the server did not start: $(cat "$WORK/server.err")" >&2; exit 1; }

cat >"$WORK/config.toml" <<EOF
[defaults]
ledger = "$WORK/ledger.sqlite3"

[channels.o365]
kind = "smtp"
host = "127.0.0.1"
port = $PORT
tls = "none"
identities = ["*@acme.test"]
profile = "exchange-online"
limits = { messages = "$LIMIT/${WINDOW}s" }
EOF
chmod 600 "$WORK/config.toml"

export HOME="$WORK" XDG_STATE_HOME="$WORK/state" XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config"
echo "msc-send: $MSC_SEND"
echo "$MESSAGES messages, $PARALLEL processes at a time, limit $LIMIT per ${WINDOW}s, $(nproc) CPUs"
START=$("$PYTHON" -c 'import time; print(time.time())')
# Each line is one message: one process, its exit code recorded.
seq 1 "$MESSAGES" | xargs -P "$PARALLEL" -I{} sh -c \
  '"$0" send --config "$1/config.toml" --from "sender@acme.test" --to "r{}@example.test" --subject "bench {}" \
     --body x --max-wait 10m >/dev/null 2>>"$1/errors"; echo $? >>"$1/exits"' "$MSC_SEND" "$WORK" || true
END=$("$PYTHON" -c 'import time; print(time.time())')

"$PYTHON" - "$WORK" "$START" "$END" "$MESSAGES" "$LIMIT" "$WINDOW" <<'EOF'
import sys
work, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
messages, limit, window = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
times = []
for line in open(work + "/arrivals.log"):
  if line.startswith("S: transaction "):
    times.append(float([w for w in line.split() if w.startswith("at=")][0][3:]))
times.sort()
exits = [int(x) for x in open(work + "/exits").read().split()]
failed = [x for x in exits if x != 0]
j = 0
busiest = 0
for i, t in enumerate(times):
  while j < len(times) and times[j] < t + window:
    j += 1
  busiest = max(busiest, j - i)
rounds = -(-messages // limit)
strict = (rounds - 1) * window
span = times[-1] - times[0] if times else 0
# Sorted arrivals obey t[k] >= t[k - limit] + window, so the last cannot arrive before the
# limit-th arrival plus (rounds - 1) windows: the minimum given how fast this machine delivered the
# first batch, which no limit held back (its reservations are all granted at once).
first_batch = times[min(limit, len(times)) - 1] - times[0] if times else 0
chained = first_batch + strict
late = [times[k] - (times[k - limit] + window) for k in range(limit, len(times), limit)]
codes = " " + str(sorted(set(failed))) if failed else ""
print(f"arrived:            {len(times)} of {messages} (processes failed: {len(failed)}{codes})")
print(f"busiest {window:g} s window: {busiest} (limit {limit})")
print(f"first to last:      {span:.3f} s")
print(f"  vs {strict:g} s (the limit alone, an instant first batch): over by {100 * (span - strict) / strict:.2f}%")
print(f"  first batch of {limit} took {first_batch:.3f} s (process start-up and SMTP on this machine, not throttled)")
print(f"  vs {chained:.3f} s (that first batch + {strict:g} s): over by {100 * (span - chained) / chained:.2f}%"
      f" ({1000 * (span - chained):.0f} ms of throttle delay in total)")
print(f"  each round's first arrival after its slot freed: " + ", ".join(f"{1000 * x:.0f}" for x in late) + " ms")
print(f"wall time:          {end - start:.3f} s (process starts included)")
ok = len(times) == messages and not failed and busiest <= limit and span <= chained * 1.02
print("verdict:            " + ("PASS" if ok else "FAIL")
      + " (all arrived, no window over the limit, within 2% of the minimum)")
sys.exit(0 if ok else 1)
EOF
