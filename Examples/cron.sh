#!/bin/sh
# msc-send from cron: a weekly report, cron's own mail (MAILTO) through your channel, and the queue
# flushed every few minutes so that nothing waits long and nothing is lost.
#
# Install with `crontab -e` and lines like these (cron does not read your shell profile, so name
# the config and PATH explicitly; a % in a crontab line must be written \%):
#
#   MAILTO=ann@acme.test
#   PATH=/usr/local/bin:/usr/bin:/bin
#   MSC_SEND_CONFIG=/home/ann/.config/msc-send/config.toml
#   # Every 5 minutes: deliver what is due in the queue (messages deferred by a send, a throttle, a
#   # server that was down). Quiet unless something needs a person (a failure, an expired message,
#   # a refused login), so cron mails only then. Two flushes never send the same message.
#   */5 * * * *  msc-send flush
#   # Monday 07:00: the report below.
#   0 7 * * 1  /home/ann/bin/cron.sh
#   # Any job's output is mailed to MAILTO by cron with `sendmail -t`. With msc-send installed as
#   # sendmail (ln -s "$(command -v msc-send)" /usr/sbin/sendmail), that mail goes through the
#   # channel whose identities match the sender, and is queued like any other:
#   30 6 * * *  /home/ann/bin/backup.sh
#
# Exit codes (sysexits.h) tell cron jobs what to do: 0 sent; 75 not delivered yet, but queued:
# `msc-send flush` sends it (throttled, 4xx, out of quota, network down); 65 a bad address or a
# refused message; 69 no channel or service unavailable; 74 the spool or the ledger cannot be
# written; 77 credentials or certificate refused; 78 configuration error. Never send again after
# 75: the message is already in the queue.

set -u

report="${TMPDIR:-/tmp}/weekly-report.$$"
trap 'rm -f "$report"' EXIT
df -h > "$report"

msc-send send --from ann@acme.test --to team@acme.test --subject "Weekly disk report $(date +%F)" \
  --body-file "$report"
status=$?
case $status in
  0) ;;
  75) echo "msc-send: not delivered yet (exit 75): it is queued, and msc-send flush sends it" >&2 ;;
  *) echo "msc-send: failed with exit $status" >&2 ;;
esac
exit $status

# The same message in sendmail form, recipients taken from the headers:
#   printf 'From: ann@acme.test\nTo: team@acme.test\nSubject: Weekly report\n\n%s\n' "$(df -h)" | msc-send -t
# What waits, and why:
#   msc-send queue            # or: msc-send queue show ID, msc-send queue retry ID
