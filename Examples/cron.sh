#!/bin/sh
# msc-send from cron: a weekly report, and cron's own mail (MAILTO) through your channel.
#
# Install with `crontab -e` and lines like these (cron does not read your shell profile, so name
# the config and PATH explicitly; a % in a crontab line must be written \%):
#
#   MAILTO=ann@acme.test
#   PATH=/usr/local/bin:/usr/bin:/bin
#   MSC_SEND_CONFIG=/home/ann/.config/msc-send/config.toml
#   # Monday 07:00: the report below.
#   0 7 * * 1  /home/ann/bin/cron.sh
#   # Any job's output is mailed to MAILTO by cron with `sendmail -t`. With msc-send installed as
#   # sendmail (ln -s "$(command -v msc-send)" /usr/sbin/sendmail), that mail goes through the
#   # channel whose identities match the sender:
#   30 6 * * *  /home/ann/bin/backup.sh
#
# Exit codes (sysexits.h) tell cron jobs what to do: 0 sent; 75 not delivered yet, try later
# (throttled, 4xx, network down); 65 a bad address or a refused message; 69 no channel or
# service unavailable; 77 credentials or certificate refused; 78 configuration error.

set -u

report="${TMPDIR:-/tmp}/weekly-report.$$"
trap 'rm -f "$report"' EXIT
df -h > "$report"

msc-send send --from ann@acme.test --to team@acme.test --subject "Weekly disk report $(date +%F)" \
  --body-file "$report"
status=$?
case $status in
  0) ;;
  75) echo "msc-send: not delivered yet (exit 75); the next run tries again" >&2 ;;
  *) echo "msc-send: failed with exit $status" >&2 ;;
esac
exit $status

# The same message in sendmail form, recipients taken from the headers:
#   printf 'From: ann@acme.test\nTo: team@acme.test\nSubject: Weekly report\n\n%s\n' "$(df -h)" | msc-send -t
