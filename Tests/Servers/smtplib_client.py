#!/usr/bin/env python3
"""A reference SMTP client (Python smtplib) that proves the test harness and servers work on their
own, before msc-send is involved: the message is read from stdin and sent as is.

Exit codes: 0 every recipient accepted, 2 some refused, 77 authentication refused,
1 anything else (the error is printed on stderr).
"""

import argparse
import smtplib
import ssl
import sys


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--host", default="127.0.0.1")
  p.add_argument("--port", type=int, required=True)
  p.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
  p.add_argument("--ca-file")
  p.add_argument("--user")
  p.add_argument("--password")
  p.add_argument("--auth", choices=["PLAIN", "LOGIN"], default="PLAIN")
  p.add_argument("--from", dest="sender", required=True)
  p.add_argument("--to", action="append", required=True)
  p.add_argument("--timeout", type=float, default=10)
  args = p.parse_args()
  message = sys.stdin.buffer.read()

  context = ssl.create_default_context(cafile=args.ca_file)
  try:
    if args.tls == "implicit":
      client = smtplib.SMTP_SSL(args.host, args.port, timeout=args.timeout, context=context)
    else:
      client = smtplib.SMTP(args.host, args.port, timeout=args.timeout)
    with client:
      client.ehlo()
      if args.tls == "starttls":
        client.starttls(context=context)
        client.ehlo()
      if args.user is not None:
        client.user, client.password = args.user, args.password
        method = client.auth_plain if args.auth == "PLAIN" else client.auth_login
        client.auth(args.auth, method, initial_response_ok=args.auth == "PLAIN")
      refused = client.sendmail(args.sender, args.to, message)
  except smtplib.SMTPAuthenticationError as error:
    print("auth refused: %s" % error, file=sys.stderr)
    return 77
  except Exception as error:  # noqa: BLE001 - report any failure as one line
    print("%s: %s" % (type(error).__name__, error), file=sys.stderr)
    return 1
  if refused:
    print("refused: %r" % refused, file=sys.stderr)
    return 2
  return 0


if __name__ == "__main__":
  sys.exit(main())
