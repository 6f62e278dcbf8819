#!/usr/bin/env bash
# bench/single-send.sh: wall time of ONE `msc-send send` process against ONE `msmtp` process
# delivering the same message to the same loopback SMTP server (Postfix `smtp-sink`, no TLS,
# no AUTH), runs alternating, several runs each; prints min/median/mean per client and the
# ratio msc-send/msmtp. Goal (issue): msc-send <= 0.5 x msmtp on the realistic ("large") message.
#
# Usage: bench/single-send.sh            (from anywhere; builds the release binary first)
# Environment:
#   RUNS=30          timed runs per client and scenario
#   WARMUP=3         untimed runs per client first
#   BODY_KB=40       size of the generated plain-text body of the "large" scenario
#   SCENARIOS="large tiny startup"
#                    large: BODY_KB KB body in ~65-column lines; tiny: a three-line body;
#                    startup: `--version` of each, no network (the process start-up floor)
#   HYPERFINE=auto   auto|yes|no: also measure with hyperfine (block-wise, JSON exported)
#   CONTROL=auto     auto|yes|no: also time msmtp with TCP_NODELAY forced on by an LD_PRELOAD
#                    shim (needs a C compiler): msmtp minus its Nagle/delayed-ACK stall
#   MSC_SEND=PATH    use this binary and skip the build
#   SCRATCH=DIR      SwiftPM scratch path (default: <repo>/.build-bench)
#   OUT=DIR          raw times, logs, JSON, summary (default: <repo>/bench/out/single-send)
# A benchmark, not a test: it prints whether the goal holds and exits 0 either way (non-zero
# only when something could not run, or a send failed or went missing).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
BODY_KB=${BODY_KB:-40}
SCENARIOS=${SCENARIOS:-"large tiny startup"}
HYPERFINE=${HYPERFINE:-auto}
CONTROL=${CONTROL:-auto}
SCRATCH=${SCRATCH:-$ROOT/.build-bench}
OUT=${OUT:-$ROOT/bench/out/single-send}
FROM=bench-sender@example.com
TO=bench-recipient@example.net
SUBJECT="msc-send single-send benchmark"

SUMMARY=
say() { printf '%s\n' "$*"; }
note() { printf '%s\n' "$*" | tee -a "${SUMMARY:-/dev/null}"; }  # also into summary.txt
die() { printf 'single-send.sh: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------
find_tool() {  # find_tool NAME [DIR...]: prints the path, or nothing
  local name=$1 dir
  shift
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for dir in "$@"; do
    if [[ -x $dir/$name ]]; then printf '%s\n' "$dir/$name"; return 0; fi
  done
  return 0
}

MSMTP=$(find_tool msmtp)
SINK=$(find_tool smtp-sink /usr/sbin /usr/lib/postfix/sbin /usr/libexec/postfix /usr/local/sbin)
SWIFT=$(find_tool swift)
HYPERFINE_BIN=$(find_tool hyperfine)
CC_BIN=$(find_tool cc)
PYTHON=$(find_tool python3)
JQ=$(find_tool jq)

missing=()
[[ -n $MSMTP ]] || missing+=("msmtp (apt package msmtp)")
[[ -n $SINK ]] || missing+=("smtp-sink (apt package postfix; only this binary is used)")
[[ -n ${MSC_SEND:-} || -n $SWIFT ]] || missing+=("swift (a Swift 6 toolchain, https://swift.org/install)")
for tool in awk sort sed tr; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if ((${#missing[@]})); then
  {
    say "single-send.sh: missing tools:"
    for tool in "${missing[@]}"; do say "  - $tool"; done
    say ""
    say "On Debian/Ubuntu, without configuring or starting any mail service:"
    say "  echo 'postfix postfix/main_mailer_type select No configuration' | sudo debconf-set-selections"
    say "  printf '#!/bin/sh\\nexit 101\\n' | sudo tee /usr/sbin/policy-rc.d >/dev/null"
    say "  sudo chmod +x /usr/sbin/policy-rc.d"
    say "  sudo apt-get install -y msmtp postfix hyperfine   # hyperfine is optional"
    say "  sudo rm /usr/sbin/policy-rc.d                      # unless it was there before"
    say "The script runs smtp-sink itself, on 127.0.0.1 and a free port, and stops it at the end."
  } >&2
  exit 2
fi
case $HYPERFINE in
  yes) [[ -n $HYPERFINE_BIN ]] || die "HYPERFINE=yes, but hyperfine is not installed (apt-get install hyperfine)" ;;
  no) HYPERFINE_BIN= ;;
  auto) ;;
  *) die "HYPERFINE must be auto, yes or no" ;;
esac
case $CONTROL in
  yes) [[ -n $CC_BIN ]] || die "CONTROL=yes, but there is no C compiler (cc)" ;;
  no) CC_BIN= ;;
  auto) ;;
  *) die "CONTROL must be auto, yes or no" ;;
esac
[[ $RUNS =~ ^[1-9][0-9]*$ && $WARMUP =~ ^[0-9]+$ && $BODY_KB =~ ^[1-9][0-9]*$ ]] ||
  die "RUNS, WARMUP and BODY_KB must be whole numbers (RUNS and BODY_KB at least 1)"

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/single-send.XXXXXX")
SINK_PID=
stop_sink() {
  if [[ -n $SINK_PID ]]; then
    kill "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
    SINK_PID=
  fi
}
cleanup() { stop_sink; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
LINK_MODE="given with MSC_SEND"
if [[ -n ${MSC_SEND:-} ]]; then
  BIN=$MSC_SEND
  [[ -x $BIN ]] || die "MSC_SEND=$BIN is not executable"
else
  say "building msc-send (release) in $SCRATCH; log in $OUT/build.log ..."
  if (cd "$ROOT" && "$SWIFT" build -c release --static-swift-stdlib --scratch-path "$SCRATCH") \
    >"$OUT/build.log" 2>&1; then
    LINK_MODE="release, --static-swift-stdlib"
  else
    say "  --static-swift-stdlib did not link (see $OUT/build.log); building plain release"
    (cd "$ROOT" && "$SWIFT" build -c release --scratch-path "$SCRATCH") >>"$OUT/build.log" 2>&1 ||
      die "release build failed; see $OUT/build.log"
    LINK_MODE="release, dynamic Swift runtime"
  fi
  BIN="$(cd "$ROOT" && "$SWIFT" build -c release --scratch-path "$SCRATCH" --show-bin-path)/msc-send"
  [[ -x $BIN ]] || die "no binary at $BIN"
fi

# The control: msmtp with TCP_NODELAY switched on for every TCP socket it connects.
NODELAY_SO=
if [[ -n $CC_BIN ]]; then
  cat >"$WORK/nodelay.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
int connect(int fd, const struct sockaddr *address, socklen_t length) {
  static int (*real_connect)(int, const struct sockaddr *, socklen_t);
  if (!real_connect) real_connect = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
  int result = real_connect(fd, address, length);
  if (address->sa_family == AF_INET || address->sa_family == AF_INET6) {
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  }
  return result;
}
EOF
  if "$CC_BIN" -shared -fPIC -O2 -o "$WORK/nodelay.so" "$WORK/nodelay.c" -ldl >"$OUT/nodelay-build.log" 2>&1; then
    NODELAY_SO=$WORK/nodelay.so
  else
    [[ $CONTROL == yes ]] && die "could not build the TCP_NODELAY shim; see $OUT/nodelay-build.log"
    say "  (no msmtp+nodelay control: the shim did not build, see $OUT/nodelay-build.log)"
  fi
fi

# ---------------------------------------------------------------------------------------------
# smtp-sink on 127.0.0.1 and a free port, as our own process
# ---------------------------------------------------------------------------------------------
SINK_USER=()
if [[ $(id -u) -eq 0 ]]; then SINK_USER=(-u nobody); fi  # smtp-sink refuses root without -u
PORT=

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

start_sink() {  # start_sink LOGFILE [smtp-sink options...]: sets PORT and SINK_PID
  local log=$1 attempt port i
  shift
  for attempt in $(seq 1 25); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
    port_answers "$port" && continue
    "$SINK" "${SINK_USER[@]}" "$@" "127.0.0.1:$port" 1000 >"$log" 2>&1 &
    SINK_PID=$!
    for i in $(seq 1 100); do
      kill -0 "$SINK_PID" 2>/dev/null || break
      if port_answers "$port"; then PORT=$port; return 0; fi
      sleep 0.05
    done
    stop_sink  # it died (port taken meanwhile?) or never answered: another port
  done
  die "could not start smtp-sink; its last words: $(tr '\r' '\n' <"$log" | tail -n 3)"
}

sink_messages() {  # messages counted so far by `smtp-sink -c` in LOGFILE
  tr '\r' '\n' <"$1" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -n 1
}

# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------
MSMTPRC=$WORK/msmtprc  # empty: no user or system msmtp configuration leaks in
: >"$MSMTPRC"
chmod 600 "$MSMTPRC"

make_body() {  # make_body SCENARIO FILE
  case $1 in
    large)
      # Deterministic prose-like text: lines of 58-71 columns (under 78, so msc-send keeps the
      # body 7bit and byte-identical to what msmtp gets), some blank lines, BODY_KB KB in all.
      awk -v limit=$((BODY_KB * 1024)) 'BEGIN {
        srand(42)
        n = split("the of and to in is for on that with as by this from at are be it an or was " \
          "which mail server message client line delivery queue relay header body transfer " \
          "session network latency buffer window segment acknowledgement timer", w, " ")
        bytes = 0
        while (bytes < limit) {
          line = ""; width = 58 + int(rand() * 14)
          while (length(line) < width) line = line (line == "" ? "" : " ") w[1 + int(rand() * n)]
          if (rand() < 0.07) line = ""
          print line; bytes += length(line) + 1
        }
      }' >"$2"
      ;;
    tiny) printf 'Hello,\n\nthis is a short benchmark message.\n' >"$2" ;;
    *) die "unknown scenario $1 (known: large tiny startup)" ;;
  esac
}

make_message() {  # make_message BODY FILE: for msmtp, the headers msc-send writes, then BODY
  {
    printf 'Date: %s\n' "$(LC_ALL=C date -u '+%a, %d %b %Y %H:%M:%S +0000')"
    printf 'From: %s\nTo: %s\nSubject: %s\n' "$FROM" "$TO" "$SUBJECT"
    printf 'Message-ID: <%s.bench@example.com>\n' "$(date +%s%N)"
    printf 'MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n'
    cat "$1"
  } >"$2"
}

# ---------------------------------------------------------------------------------------------
# Clients: run_client NAME runs one send (or --version in the startup scenario)
# ---------------------------------------------------------------------------------------------
SCENARIO=
BODY=
MESSAGE=

run_client() {
  if [[ $SCENARIO == startup ]]; then
    case $1 in
      msmtp) "$MSMTP" --version >/dev/null ;;
      msc-send) "$BIN" --version >/dev/null ;;
    esac
    return
  fi
  case $1 in
    msmtp)
      "$MSMTP" --file="$MSMTPRC" --host=127.0.0.1 --port="$PORT" --tls=off --auth=off \
        --from="$FROM" "$TO" <"$MESSAGE" ;;
    msmtp+nodelay)
      LD_PRELOAD=$NODELAY_SO "$MSMTP" --file="$MSMTPRC" --host=127.0.0.1 --port="$PORT" --tls=off --auth=off \
        --from="$FROM" "$TO" <"$MESSAGE" ;;
    msc-send)
      "$BIN" send --server "127.0.0.1:$PORT" --tls none --from "$FROM" --to "$TO" --subject "$SUBJECT" \
        --body-file "$BODY" -q ;;
  esac
}

client_command() {  # the same as run_client, as one shell command line for hyperfine
  if [[ $SCENARIO == startup ]]; then
    case $1 in
      msmtp) printf '%q --version' "$MSMTP" ;;
      msc-send) printf '%q --version' "$BIN" ;;
    esac
    return
  fi
  case $1 in
    msmtp)
      printf '%q ' "$MSMTP" --file="$MSMTPRC" --host=127.0.0.1 --port="$PORT" --tls=off --auth=off --from="$FROM" "$TO"
      printf '< %q' "$MESSAGE" ;;
    msmtp+nodelay)
      printf 'LD_PRELOAD=%q ' "$NODELAY_SO"
      printf '%q ' "$MSMTP" --file="$MSMTPRC" --host=127.0.0.1 --port="$PORT" --tls=off --auth=off --from="$FROM" "$TO"
      printf '< %q' "$MESSAGE" ;;
    msc-send)
      printf '%q ' "$BIN" send --server "127.0.0.1:$PORT" --tls none --from "$FROM" --to "$TO" --subject "$SUBJECT" \
        --body-file "$BODY" -q ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# Timing and statistics
# ---------------------------------------------------------------------------------------------
now_us() {  # sets NOW to microseconds; $EPOCHREALTIME (bash 5) costs no fork
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    NOW=${EPOCHREALTIME/[.,]/}
  else
    NOW=$(($(date +%s%N) / 1000))
  fi
}

bash_loop() {  # bash_loop CLIENT...: WARMUP rounds, then RUNS timed rounds; each round runs every
  # client once, the starting client rotating, so that drift and order effects hit all alike.
  local k=$# i j name t0 t1
  local -a names=("$@")
  for name in "${names[@]}"; do : >"$WORK/$SCENARIO.$name.us"; done
  for ((i = 0; i < WARMUP; i++)); do
    for name in "${names[@]}"; do run_client "$name" || die "$SCENARIO: $name failed (warm-up)"; done
  done
  for ((i = 0; i < RUNS; i++)); do
    for ((j = 0; j < k; j++)); do
      name=${names[(i + j) % k]}
      now_us; t0=$NOW
      run_client "$name" || die "$SCENARIO: $name failed (run $((i + 1)))"
      now_us; t1=$NOW
      echo $((t1 - t0)) >>"$WORK/$SCENARIO.$name.us"
    done
  done
  for name in "${names[@]}"; do cp "$WORK/$SCENARIO.$name.us" "$OUT/$SCENARIO.$name.us"; done
}

stats() {  # stats FILE (microseconds, one a line): "n min median mean max sd", in ms
  sort -n "$1" | awk '{ v[NR] = $1 / 1000; s += v[NR]; q += v[NR] * v[NR] }
    END {
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      mean = s / NR; var = q / NR - mean * mean; if (var < 0) var = 0
      printf "%d %.1f %.1f %.1f %.1f %.1f\n", NR, v[1], m, mean, v[NR], sqrt(var)
    }'
}

hyperfine_stats() {  # hyperfine_stats JSON INDEX: "n min median mean max sd", in ms
  if [[ -n $PYTHON ]]; then
    "$PYTHON" - "$1" "$2" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]
ms = lambda s: "%.1f" % (s * 1000)
print(len(r["times"]), ms(r["min"]), ms(r["median"]), ms(r["mean"]), ms(r["max"]), ms(r["stddev"] or 0))
EOF
  elif [[ -n $JQ ]]; then
    "$JQ" -r ".results[$2] | [(.times|length), .min, .median, .mean, .max, (.stddev // 0)]
      | [.[0]] + (.[1:] | map(. * 10000 | round / 10)) | map(tostring) | join(\" \")" "$1"
  else
    return 1
  fi
}

declare -A MEDIAN MEAN  # "scenario|method|client" -> ms
RESULT_ROWS=()
record() {  # record METHOD CLIENT n min median mean max sd
  RESULT_ROWS+=("$SCENARIO|$1|$2|$3|$4|$5|$6|$7|$8")
  MEDIAN["$SCENARIO|$1|$2"]=$5
  MEAN["$SCENARIO|$1|$2"]=$6
}

# ---------------------------------------------------------------------------------------------
# Header
# ---------------------------------------------------------------------------------------------
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)
note "single-send benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
LOAD=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
note "machine:   $(nproc) CPUs, ${CPU:-unknown CPU}, $(uname -sr), load average $LOAD"
note "msc-send:  $BIN ($LINK_MODE)"
note "msmtp:     $("$MSMTP" --version | head -n 1)"
if [[ -n $SWIFT ]]; then note "swift:     $("$SWIFT" --version 2>&1 | head -n 1)"; fi
note "server:    $SINK on 127.0.0.1 (no TLS, no AUTH: msc-send --tls none, msmtp --tls=off --auth=off)"
note "runs:      $RUNS per client and scenario after $WARMUP warm-up, order rotating;" \
  "hyperfine: ${HYPERFINE_BIN:-not used}; control msmtp+nodelay: $([[ -n $NODELAY_SO ]] && echo yes || echo no)"

# ---------------------------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------------------------
for SCENARIO in $SCENARIOS; do
  note ""
  clients=(msmtp msc-send)
  sink_log=
  if [[ $SCENARIO == startup ]]; then
    note "== startup: \`msc-send --version\` vs \`msmtp --version\` (no network)"
  else
    BODY=$WORK/$SCENARIO.body.txt
    MESSAGE=$WORK/$SCENARIO.eml
    make_body "$SCENARIO" "$BODY"
    make_message "$BODY" "$MESSAGE"
    [[ -n $NODELAY_SO ]] && clients+=(msmtp+nodelay)
    note "== $SCENARIO: body $(wc -c <"$BODY") bytes in $(wc -l <"$BODY") lines;" \
      "message for msmtp $(wc -c <"$MESSAGE") bytes"

    # First check that both clients deliver the same text (smtp-sink -d dumps each message).
    dumpdir=$WORK/dump-$SCENARIO
    mkdir -p "$dumpdir"
    chmod 711 "$WORK"      # smtp-sink writes as nobody when we are root: let it through
    chmod 1777 "$dumpdir"  # to the dump directory, and write there
    start_sink "$WORK/sink-verify.log" -d "$dumpdir/m."
    for client in msmtp msc-send; do
      run_client "$client" || die "$SCENARIO: $client could not send to smtp-sink on port $PORT"
      for i in $(seq 1 40); do compgen -G "$dumpdir/m.*" >/dev/null && break; sleep 0.05; done
      dump=$(compgen -G "$dumpdir/m.*" | head -n 1) || die "$SCENARIO: smtp-sink dumped nothing for $client"
      # The dump: smtp-sink's own X-* and Received lines, the message headers, a blank line, the text.
      tr -d '\r' <"$dump" | sed '1,/^$/d' >"$WORK/$SCENARIO.text-$client"
      rm -f "$dump"
    done
    stop_sink
    cmp -s "$WORK/$SCENARIO.text-msmtp" "$WORK/$SCENARIO.text-msc-send" ||
      die "$SCENARIO: the delivered texts differ: diff $WORK/$SCENARIO.text-msmtp $WORK/$SCENARIO.text-msc-send"
    note "   both clients delivered the same $(wc -c <"$WORK/$SCENARIO.text-msc-send")-byte text" \
      "(checked with smtp-sink -d)"

    sink_log=$WORK/sink-$SCENARIO.log
    start_sink "$sink_log" -c
    note "   smtp-sink pid $SINK_PID on 127.0.0.1:$PORT"
  fi

  bash_loop "${clients[@]}"
  line="   bash loop, median:"
  for client in "${clients[@]}"; do
    read -r n min med mean max sd < <(stats "$WORK/$SCENARIO.$client.us")
    record "bash loop" "$client" "$n" "$min" "$med" "$mean" "$max" "$sd"
    line+=" $client $med ms,"
  done
  note "${line%,}"

  if [[ -n $HYPERFINE_BIN ]]; then
    json=$OUT/$SCENARIO.hyperfine.json
    args=()
    for client in "${clients[@]}"; do args+=(-n "$client" "$(client_command "$client")"); done
    "$HYPERFINE_BIN" --style basic --warmup "$WARMUP" --runs "$RUNS" --export-json "$json" "${args[@]}" \
      >"$OUT/$SCENARIO.hyperfine.txt" 2>&1 || die "$SCENARIO: hyperfine failed; see $OUT/$SCENARIO.hyperfine.txt"
    line="   hyperfine, median:"
    for index in "${!clients[@]}"; do
      client=${clients[$index]}
      if read -r n min med mean max sd < <(hyperfine_stats "$json" "$index"); then
        record hyperfine "$client" "$n" "$min" "$med" "$mean" "$max" "$sd"
        line+=" $client $med ms,"
      else
        line="   hyperfine: see $OUT/$SCENARIO.hyperfine.txt (python3 or jq reads its JSON)"
        break
      fi
    done
    note "${line%,}"
  fi

  if [[ -n $sink_log ]]; then
    stop_sink
    expected=$(((WARMUP + RUNS) * ${#clients[@]}))
    [[ -n $HYPERFINE_BIN ]] && expected=$((expected * 2))
    got=$(sink_messages "$sink_log")
    note "   smtp-sink counted ${got:-no} messages (expected $expected)"
    [[ ${got:-0} -eq $expected ]] || die "$SCENARIO: smtp-sink received ${got:-0} messages, expected $expected"
  fi
done

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
note ""
note "Wall time per process, ms. bash loop: rounds of one run per client, starting client rotating,"
note "\$EPOCHREALTIME around each run. hyperfine: one block per client via sh -c, shell start-up"
note "subtracted. msmtp+nodelay: msmtp with TCP_NODELAY forced on (LD_PRELOAD shim), the control."
note ""
note '| scenario | method    | client        |    n |    min | median |   mean |    max |    sd |'
note '|----------|-----------|---------------|-----:|-------:|-------:|-------:|-------:|------:|'
for r in "${RESULT_ROWS[@]}"; do
  IFS='|' read -r -a f <<<"$r"
  printf '| %-8s | %-9s | %-13s | %4s | %6s | %6s | %6s | %6s | %5s |\n' "${f[@]}" | tee -a "$SUMMARY"
done
note ""
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for SCENARIO in $SCENARIOS; do
  for method in "bash loop" hyperfine; do
    key="$SCENARIO|$method"
    [[ -n ${MEDIAN["$key|msc-send"]:-} ]] || continue
    r_median=$(ratio "${MEDIAN["$key|msc-send"]}" "${MEDIAN["$key|msmtp"]}")
    r_mean=$(ratio "${MEAN["$key|msc-send"]}" "${MEAN["$key|msmtp"]}")
    verdict=
    if [[ $SCENARIO == large ]]; then
      verdict="   goal <= 0.50: MISSED"
      if awk -v r="$r_median" 'BEGIN { exit !(r <= 0.5) }'; then verdict="   goal <= 0.50: MET"; fi
    fi
    control=
    if [[ -n ${MEDIAN["$key|msmtp+nodelay"]:-} ]]; then
      control="; vs msmtp+nodelay: median $(ratio "${MEDIAN["$key|msc-send"]}" "${MEDIAN["$key|msmtp+nodelay"]}")"
    fi
    note "$(printf '%-8s %-9s msc-send/msmtp: median %s, mean %s%s%s' \
      "$SCENARIO" "$method" "$r_median" "$r_mean" "$control" "$verdict")"
  done
done
say ""
say "raw times (microseconds), hyperfine output and JSON, this summary: $OUT"
