#!/usr/bin/env python3
"""A real, independent SMTP server for msc-send's end-to-end tests (DESIGN.md section 7).

aiosmtpd with STARTTLS or implicit TLS and AUTH PLAIN/LOGIN. Every accepted message is stored as
DIR/<n>.eml (the exact DATA bytes after dot-unstuffing) and DIR/<n>.json (the envelope). The .json
is written last, by rename, so its presence means the message is complete.

Prints one line "READY <port>" on stdout once listening; runs until SIGTERM or SIGINT.
"""

import argparse
import asyncio
import json
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

from harness_common import exit_with_parent

# OAuth AUTH lines (XOAUTH2) are KB long; aiosmtpd's default is 512 through this class attribute.
COMMAND_SIZE_LIMIT = 16384
SMTP.command_size_limit = COMMAND_SIZE_LIMIT
# aiosmtpd 1.4 still sets the deprecated attribute itself on every AUTH; the warning is noise here.
warnings.filterwarnings("ignore", message="Session.login_data is deprecated")


class TestSMTP(SMTP):
  """aiosmtpd's SMTP with room for long command lines and AUTH over implicit TLS."""

  def __init__(self, handler, *, implicit_tls=False, **kwargs):
    super().__init__(handler, **kwargs)
    self._implicit_tls = implicit_tls
    # The stream reader's own limit (line_length_limit, 1001) would refuse a long AUTH line before
    # command_size_limit is even checked; DATA lines are still held to 1001 by the explicit check.
    self._stream_reader._limit = max(COMMAND_SIZE_LIMIT, self.line_length_limit)

  def connection_made(self, transport):
    super().connection_made(transport)
    if self._implicit_tls and transport.get_extra_info("ssl_object") is not None:
      # aiosmtpd only knows about TLS it started itself (STARTTLS); an implicit TLS connection is
      # just as private, so AUTH is allowed and advertised on it.
      self._auth_require_tls = False


class MaildirHandler:
  def __init__(self, maildir):
    self.maildir = maildir
    self.count = 0

  async def handle_DATA(self, server, session, envelope):
    self.count += 1
    base = os.path.join(self.maildir, str(self.count))
    with open(base + ".eml.tmp", "wb") as f:
      f.write(envelope.original_content)
    os.rename(base + ".eml.tmp", base + ".eml")
    login = getattr(session.auth_data, "login", None)
    if isinstance(login, bytes):
      login = login.decode("utf-8", "replace")
    meta = {
      "mail_from": envelope.mail_from,
      "rcpt_tos": list(envelope.rcpt_tos),
      "mail_options": list(envelope.mail_options),
      "auth_user": login,
      "helo": session.host_name,
      "tls": session.ssl is not None or server._implicit_tls,
    }
    with open(base + ".json.tmp", "w", encoding="utf-8") as f:
      json.dump(meta, f)
    os.rename(base + ".json.tmp", base + ".json")
    return "250 2.0.0 Message accepted for delivery as %d" % self.count


def make_authenticator(credentials):
  def authenticator(server, session, envelope, mechanism, auth_data):
    if not isinstance(auth_data, LoginPassword):
      return AuthResult(success=False, handled=False)
    user = auth_data.login.decode("utf-8", "replace")
    password = auth_data.password.decode("utf-8", "replace")
    if credentials.get(user) == password:
      return AuthResult(success=True, auth_data=auth_data)
    return AuthResult(success=False, handled=False)
  return authenticator


def parse_args(argv):
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"],
                 help="loopback only")
  p.add_argument("--port", type=int, default=0)
  p.add_argument("--maildir", required=True)
  p.add_argument("--cert")
  p.add_argument("--key")
  p.add_argument("--mode", choices=["starttls", "implicit", "plain"], default="starttls")
  p.add_argument("--auth", action="append", default=[], metavar="USER:PASSWORD")
  p.add_argument("--auth-require-tls", action=argparse.BooleanOptionalAction, default=True)
  p.add_argument("--no-starttls", action="store_true",
                 help="load the certificate but do not advertise STARTTLS")
  p.add_argument("--hostname", default="localhost", help="name in the greeting and EHLO reply")
  p.add_argument("--smtputf8", action="store_true", help="offer SMTPUTF8 (RFC 6531)")
  p.add_argument("--no-8bitmime", action="store_true",
                 help="do not offer 8BITMIME; 8-bit message data is then refused (500 strict ASCII mode)")
  args = p.parse_args(argv)
  if args.mode != "plain" and not (args.cert and args.key):
    p.error("--mode %s needs --cert and --key" % args.mode)
  return args


async def serve(args):
  credentials = {}
  for item in args.auth:
    user, sep, password = item.partition(":")
    if not sep:
      raise SystemExit("--auth wants USER:PASSWORD, got %r" % item)
    credentials[user] = password

  context = None
  if args.cert:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)

  implicit = args.mode == "implicit"
  starttls_context = context if args.mode == "starttls" and not args.no_starttls else None
  os.makedirs(args.maildir, exist_ok=True)
  handler = MaildirHandler(args.maildir)

  def factory():
    return TestSMTP(
      handler,
      implicit_tls=implicit,
      hostname=args.hostname,
      tls_context=starttls_context,
      auth_require_tls=args.auth_require_tls,
      authenticator=make_authenticator(credentials) if credentials else None,
      enable_SMTPUTF8=args.smtputf8,
      decode_data=args.no_8bitmime,
      timeout=60,
    )

  loop = asyncio.get_running_loop()
  server = await loop.create_server(
    factory, host=args.host, port=args.port, ssl=context if implicit else None)
  port = server.sockets[0].getsockname()[1]
  stop = asyncio.Event()
  for sig in (signal.SIGTERM, signal.SIGINT):
    loop.add_signal_handler(sig, stop.set)
  print("READY %d" % port, flush=True)
  await stop.wait()
  server.close()
  await server.wait_closed()


def main():
  args = parse_args(sys.argv[1:])
  exit_with_parent()
  asyncio.run(serve(args))


if __name__ == "__main__":
  main()
