#!/usr/bin/env bash
# bench/batch.sh: throughput of `msc-send batch` (durable queue and ledger on) against the practical
# limit and against other clients, all delivering to the same loopback Postfix `smtp-sink`:
#   msc-send batch  2,000 rows -> 2,000 messages of ~2 KB, one recipient each, --connections 1 and 4
#   smtp-source     -d -m 2000 -l 2048 with -s 1 and -s 4 (Postfix's load generator, reused connections)
#   smtplib         Python's smtplib, one connection, sendmail() per message
#   msmtp           one process per message (MSMTP_MESSAGES of them: msmtp takes ~50 ms each)
# Each round runs every client once, in a rotating order; the table gives the median msgs/s over
# ROUNDS rounds and the ratios the issue sets as goals:
#   msc-send >= 0.8 x smtp-source at the same number of connections (1 and 4),
#   msc-send >= 1 x smtplib on one connection, msc-send >= 100 x msmtp.
# msc-send's time is the whole command: process start, reading and checking every row, rendering,
# spooling (one fsync) and queueing (one transaction), delivery with grouped commits, exit.
#
#   bench/batch.sh                        # builds the release binary first
#   MSC_SEND=path/to/msc-send ROUNDS=7 MESSAGES=2000 MSMTP_MESSAGES=100 bench/batch.sh
#
# Needs smtp-sink and smtp-source (Debian package postfix; no service is configured or started),
# msmtp, python3 (standard library only) and bash 5.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${ROUNDS:-5}
MESSAGES=${MESSAGES:-2000}
MSMTP_MESSAGES=${MSMTP_MESSAGES:-100}
SIZE=${SIZE:-2048}
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$ROOT/bench/out/batch}

say() { printf '%s\n' "$*"; }
die() { say "bench/batch.sh: $*" >&2; exit 1; }
find_tool() {  # find_tool NAME [DIR...]: PATH first, then the given folders
  local name=$1 dir
  shift
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return; fi
  for dir in "$@"; do [[ -x $dir/$name ]] && { say "$dir/$name"; return; }; done
  return 0
}

SINK=$(find_tool smtp-sink /usr/sbin /usr/lib/postfix/sbin)
SOURCE=$(find_tool smtp-source /usr/sbin /usr/lib/postfix/sbin)
MSMTP=$(find_tool msmtp)
missing=()
[[ -n $SINK ]] || missing+=("smtp-sink (apt package postfix)")
[[ -n $SOURCE ]] || missing+=("smtp-source (apt package postfix)")
[[ -n $MSMTP ]] || missing+=("msmtp (apt package msmtp)")
command -v "$PYTHON" >/dev/null || missing+=("python3")
if ((${#missing[@]})); then
  say "missing: ${missing[*]}" >&2
  say "install without starting any mail service (see .ci/install-test-deps):" >&2
  say "  echo 'postfix postfix/main_mailer_type select No configuration' | sudo debconf-set-selections" >&2
  say "  sudo apt-get install -y --no-install-recommends postfix msmtp" >&2
  exit 1
fi

if [[ -z ${MSC_SEND:-} ]]; then
  say "building the release binary (swift build -c release) ..."
  (cd "$ROOT" && swift build -c release --static-swift-stdlib >/dev/null 2>&1) \
    || (cd "$ROOT" && swift build -c release >/dev/null) || die "the release build failed"
  MSC_SEND=$ROOT/.build/release/msc-send
fi
[[ -x $MSC_SEND ]] || die "no msc-send at $MSC_SEND"

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/msc-send-batch-bench.XXXXXX")
SINK_PID=
cleanup() {
  [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null && wait "$SINK_PID" 2>/dev/null
  [[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# smtp-sink on 127.0.0.1 and a free port, as our own process (stopped by its pid at the end)
SINK_USER=()
[[ $(id -u) -eq 0 ]] && SINK_USER=(-u nobody)  # smtp-sink refuses root without -u
port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
PORT=
for _ in $(seq 1 25); do
  candidate=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
  port_answers "$candidate" && continue
  "$SINK" "${SINK_USER[@]}" "127.0.0.1:$candidate" 1000 >"$WORK/sink.log" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 1 100); do
    kill -0 "$SINK_PID" 2>/dev/null || break
    if port_answers "$candidate"; then PORT=$candidate; break 2; fi
    sleep 0.05
  done
  kill "$SINK_PID" 2>/dev/null || true
  SINK_PID=
done
[[ -n $PORT ]] || die "could not start smtp-sink: $(tail -n 3 "$WORK/sink.log")"

# The rows and the template: every message ~SIZE octets as msc-send writes it (headers included).
"$PYTHON" - "$WORK" "$MESSAGES" "$SIZE" <<'EOF'
import sys
work, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
template = "From: Bench <bench@acme.test>\nTo: {{name}} <{{email}}>\nSubject: Batch {{key}} for {{name}}\n\n"
template += "Dear {{name}},\n\n{{text}}\n"
line = "The quarterly numbers are in and they look better than last time.\n"
lines = (size - 600) // len(line)
template += line * lines
open(work + "/template.eml", "w").write(template)
with open(work + "/rows.csv", "w") as rows:
  rows.write("key,name,email,text\n")
  for i in range(count):
    rows.write(f"{i},Person {i},person{i}@example.test,Your reference is {i:08d}.\n")
body = "".join(f"line {i:04d} " + "x" * 60 + "\n" for i in range(size // 72))
open(work + "/smtplib_bench.py", "w").write(f'''
import smtplib, sys
host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
message = open(sys.argv[4], "rb").read()
with smtplib.SMTP(host, port, timeout=30) as client:
  for i in range(count):
    client.sendmail("bench@acme.test", [f"person{{i}}@example.test"], message)
''')
message = ("From: bench@acme.test\r\nTo: person@example.test\r\nSubject: bench\r\n"
           "Message-ID: <bench@acme.test>\r\nDate: Mon, 23 Nov 2026 17:00:00 +0000\r\n\r\n")
message += "x" * 70 + "\r\n"
while len(message) < size:
  message += "The quarterly numbers are in and they look better than last time.\r\n"
open(work + "/message.eml", "w", newline="").write(message)
EOF
: >"$WORK/msmtprc"
chmod 600 "$WORK/msmtprc"

RUN=0
config_for() {  # a fresh ledger (and spool) per run: every run starts from the same state
  local dir=$WORK/run$RUN
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<EOF
[defaults]
ledger = "$dir/state/ledger.sqlite3"

[channels.sink]
kind = "smtp"
host = "127.0.0.1"
port = $PORT
tls = "none"
identities = ["*@acme.test"]
EOF
  chmod 600 "$dir/config.toml"
  say "$dir/config.toml"
}

run_client() {  # run_client NAME: delivers its messages; nonzero when anything failed
  RUN=$((RUN + 1))
  case $1 in
    msc-send-1 | msc-send-4)
      local config
      config=$(config_for)
      HOME=$WORK XDG_STATE_HOME=$WORK/state "$MSC_SEND" batch "$WORK/rows.csv" --template "$WORK/template.eml" \
        --campaign "run$RUN" --connections "${1#msc-send-}" --config "$config" --json >"$WORK/last.json" \
        2>"$WORK/last.err" || { cat "$WORK/last.err" >&2; return 1; }
      grep -q "\"sent\":$MESSAGES," "$WORK/last.json" || { cat "$WORK/last.json" >&2; return 1; } ;;
    smtp-source-1 | smtp-source-4)
      "$SOURCE" -d -s "${1#smtp-source-}" -m "$MESSAGES" -l "$SIZE" -f bench@acme.test -t person@example.test \
        "127.0.0.1:$PORT" >/dev/null 2>"$WORK/last.err" ;;
    smtplib)
      "$PYTHON" "$WORK/smtplib_bench.py" 127.0.0.1 "$PORT" "$MESSAGES" "$WORK/message.eml" ;;
    msmtp)
      local i
      for ((i = 0; i < MSMTP_MESSAGES; i++)); do
        "$MSMTP" --file="$WORK/msmtprc" --host=127.0.0.1 --port="$PORT" --tls=off --auth=off \
          --from=bench@acme.test "person$i@example.test" <"$WORK/message.eml" || return 1
      done ;;
  esac
}

count_of() { [[ $1 == msmtp ]] && say "$MSMTP_MESSAGES" || say "$MESSAGES"; }
now_us() { NOW=${EPOCHREALTIME/[.,]/}; }

CLIENTS=(msc-send-1 smtp-source-1 msc-send-4 smtp-source-4 smtplib msmtp)
RESULTS=$OUT/rates.txt
: >"$RESULTS"
say "msc-send:  $MSC_SEND"
say "server:    $SINK on 127.0.0.1:$PORT; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "$ROUNDS rounds of: ${CLIENTS[*]} ($MESSAGES messages of ~$SIZE octets; msmtp $MSMTP_MESSAGES)"
for ((round = 0; round < ROUNDS; round++)); do
  for ((k = 0; k < ${#CLIENTS[@]}; k++)); do
    client=${CLIENTS[$(((k + round) % ${#CLIENTS[@]}))]}
    now_us; start=$NOW
    run_client "$client" || die "$client failed in round $((round + 1))"
    now_us
    elapsed=$((NOW - start))
    rate=$(awk -v n="$(count_of "$client")" -v us="$elapsed" 'BEGIN { printf "%.1f", n / (us / 1e6) }')
    printf '%s %s %s\n' "$client" "$rate" "$elapsed" >>"$RESULTS"
    printf '  round %d  %-14s %10s msgs/s  (%.3f s)\n' $((round + 1)) "$client" "$rate" \
      "$(awk -v us="$elapsed" 'BEGIN { print us / 1e6 }')"
  done
done

"$PYTHON" - "$RESULTS" <<'EOF'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
  name, rate, _ = line.split()
  rates.setdefault(name, []).append(float(rate))
median = {name: statistics.median(values) for name, values in rates.items()}
print()
print(f"{'client':<15} {'median msgs/s':>14} {'min':>9} {'max':>9}")
for name in ["msc-send-1", "smtp-source-1", "msc-send-4", "smtp-source-4", "smtplib", "msmtp"]:
  values = rates[name]
  print(f"{name:<15} {median[name]:>14.1f} {min(values):>9.1f} {max(values):>9.1f}")
print()
goals = [
  ("msc-send-1 / smtp-source-1", median["msc-send-1"] / median["smtp-source-1"], 0.8),
  ("msc-send-4 / smtp-source-4", median["msc-send-4"] / median["smtp-source-4"], 0.8),
  ("msc-send-1 / smtplib", median["msc-send-1"] / median["smtplib"], 1.0),
  ("msc-send-1 / msmtp", median["msc-send-1"] / median["msmtp"], 100.0),
]
for label, ratio, goal in goals:
  print(f"{label:<28} {ratio:>8.2f}   goal >= {goal:g}: {'met' if ratio >= goal else 'NOT met'}")
EOF
