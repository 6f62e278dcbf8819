#!/usr/bin/env python3
"""A scripted, misbehaving SMTP server for msc-send's end-to-end tests.

Each --scenario breaks the protocol (or the network) in one precise way, so a test can check that
the client notices and maps it to the right exit code. Plain blocking sockets and one thread per
connection: the point is exact control over what bytes go out and when.

Prints one line "READY <port>" on stdout once listening; runs until SIGTERM or SIGINT.

With --log FILE every event is appended as one line, flushed at once:
  C: <line>         a line received from the client, CRLF stripped, bytes outside printable ASCII
                    escaped as \\xNN (a TLS ClientHello shows up as such a line)
  S: connected      a client connected
  S: closed         the client's connection ended (EOF, reset, or we closed it)
  S: transaction N from=<a> to=<b>,<c> size=S at=T   a message we accepted (DATA ended with a 250);
                    T is the arrival time (seconds since 1970) taken after the final dot, before the 250
  S: refused <reply>   a reply refusing a transaction or closing the connection (throttle scenarios)
"""

import argparse
import signal
import socket
import sys
import threading
import time

from harness_common import exit_with_parent

SCENARIOS = [
  "inject-after-starttls",
  "no-starttls",
  "greeting-554",
  "silent",
  "dribble",
  "long-line",
  "garbage",
  "bad-continuation",
  "452-after-2",
  "close-after-dot",
  "accept",
  "quota-554",
  "421-first",
  "421-always",
]

QUOTA_REPLY = (b"554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process "
               b"message due to a permanent exception with message [BeginDiagnosticData]Cannot submit message.\r\n")
THROTTLE_REPLY = b"421 4.7.0 Try again later, closing connection.\r\n"

HOSTNAME = "fault.test"
GREETING = b"220 fault.test ESMTP fault server\r\n"
ESMTP = [HOSTNAME, "AUTH PLAIN LOGIN", "8BITMIME", "ENHANCEDSTATUSCODES"]
# Longest line we buffer from a client before logging it as is: a client is not under test here.
MAX_LINE = 1 << 20


class Log:
  def __init__(self, path):
    self.lock = threading.Lock()
    self.file = open(path, "a", encoding="ascii") if path else None

  def write(self, text):
    if self.file is None:
      return
    with self.lock:
      self.file.write(text + "\n")
      self.file.flush()


def escape(data):
  return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else "\\x%02x" % b for b in data)


class Closed(Exception):
  """The client went away."""


class Connection:
  # Connections accepted so far, across threads (for "421-first").
  count_lock = threading.Lock()
  count = 0

  def __init__(self, sock, scenario, log):
    with Connection.count_lock:
      Connection.count += 1
      self.number = Connection.count
    self.sock = sock
    self.scenario = scenario
    self.log = log
    self.buffer = b""
    self.transactions = 0
    self.reset_transaction()

  def reset_transaction(self):
    self.mail_from = None
    self.rcpts = []

  def send(self, data):
    try:
      self.sock.sendall(data)
    except OSError as error:
      raise Closed() from error

  def read_line(self):
    """One line from the client, without its line ending; logged as received."""
    while b"\n" not in self.buffer and len(self.buffer) < MAX_LINE:
      try:
        chunk = self.sock.recv(65536)
      except OSError as error:
        raise Closed() from error
      if not chunk:
        if self.buffer:
          self.log.write("C: " + escape(self.buffer))
          self.buffer = b""
        raise Closed()
      self.buffer += chunk
    if b"\n" in self.buffer:
      line, _, self.buffer = self.buffer.partition(b"\n")
    else:
      line, self.buffer = self.buffer, b""
    line = line.rstrip(b"\r")
    self.log.write("C: " + escape(line))
    return line

  def drain_forever(self):
    """Log whatever the client sends until it goes away, answering nothing."""
    while True:
      self.read_line()

  # -- scenarios -------------------------------------------------------------------------------

  def run(self):
    getattr(self, "scenario_" + self.scenario.replace("-", "_"))()

  def scenario_inject_after_starttls(self):
    self.send(GREETING)
    self.serve(ehlo=[HOSTNAME, "STARTTLS", "AUTH PLAIN LOGIN"], starttls=self.inject)

  def inject(self):
    # RFC 3207 section 4.2 / CVE-2011-0411: a reply smuggled in before the TLS handshake. A client
    # that reads it as the answer to its first command inside TLS has been fooled.
    self.send(b"220 go ahead\r\n250 injected\r\n")
    self.drain_forever()

  def scenario_no_starttls(self):
    self.send(GREETING)
    self.serve(ehlo=[HOSTNAME, "AUTH PLAIN LOGIN", "8BITMIME"])

  def scenario_greeting_554(self):
    self.send(b"554 5.3.2 fault.test no SMTP service here\r\n")
    while True:
      line = self.read_line()
      if line.upper().startswith(b"QUIT"):
        self.send(b"221 2.0.0 bye\r\n")
        return
      self.send(b"503 5.5.1 no SMTP service here\r\n")

  def scenario_silent(self):
    self.drain_forever()

  def scenario_dribble(self):
    for i in range(len(GREETING)):
      self.send(GREETING[i:i + 1])
      time.sleep(2)
    self.serve(ehlo=[HOSTNAME, "AUTH PLAIN LOGIN"])

  def scenario_long_line(self):
    self.send(b"220 " + b"x" * (65536 - 4))
    self.drain_forever()

  def scenario_garbage(self):
    self.send(b"\x00\xff\xfeGARBAGE \x80\x81\x82 this is not SMTP\r\n\x16\x03\x01\x02\x00\r\n")
    self.drain_forever()

  def scenario_bad_continuation(self):
    self.send(GREETING)
    while True:
      line = self.read_line()
      verb = line.split(b" ", 1)[0].upper()
      if verb in (b"EHLO", b"HELO"):
        self.send(b"250-a\r\n251 b\r\n")
      elif verb == b"QUIT":
        self.send(b"221 2.0.0 bye\r\n")
        return
      else:
        self.send(b"250 2.0.0 ok\r\n")

  def scenario_452_after_2(self):
    self.send(GREETING)
    self.serve(ehlo=[HOSTNAME, "AUTH PLAIN LOGIN", "8BITMIME", "ENHANCEDSTATUSCODES"], max_rcpts=2)

  def scenario_close_after_dot(self):
    self.send(GREETING)
    self.serve(ehlo=[HOSTNAME, "AUTH PLAIN LOGIN", "8BITMIME"], close_after_dot=True)

  def scenario_accept(self):
    self.send(GREETING)
    self.serve(ehlo=ESMTP)

  def scenario_quota_554(self):
    # Exchange Online's answer to the final dot once the mailbox's rolling-day quota is used up.
    self.send(GREETING)
    self.serve(ehlo=ESMTP, dot_reply=QUOTA_REPLY)

  def scenario_421_first(self):
    # A throttle that passes: the first connection is told to come back later, the rest are served.
    self.send(GREETING)
    self.serve(ehlo=ESMTP, mail_reply=THROTTLE_REPLY if self.number == 1 else None)

  def scenario_421_always(self):
    self.send(GREETING)
    self.serve(ehlo=ESMTP, mail_reply=THROTTLE_REPLY)

  # -- a small, lenient SMTP server loop shared by the scenarios ----------------------------------

  def serve(self, ehlo, starttls=None, max_rcpts=None, close_after_dot=False, dot_reply=None, mail_reply=None):
    """dot_reply: sent instead of 250 after the final dot (no transaction logged); mail_reply: a 421
    sent to MAIL, after which the connection is closed (RFC 5321 3.8)."""
    while True:
      line = self.read_line()
      verb, _, arg = line.partition(b" ")
      verb = verb.upper()
      if verb == b"EHLO":
        reply = "".join("250-%s\r\n" % item for item in ehlo[:-1]) + "250 %s\r\n" % ehlo[-1]
        self.reset_transaction()
        self.send(reply.encode("ascii"))
      elif verb == b"HELO":
        self.reset_transaction()
        self.send(b"250 " + HOSTNAME.encode("ascii") + b"\r\n")
      elif verb == b"STARTTLS" and starttls is not None:
        starttls()
        return
      elif verb == b"AUTH":
        self.auth(arg)
      elif verb == b"MAIL" and mail_reply is not None:
        self.log.write("S: refused " + mail_reply.decode("ascii").strip())
        self.send(mail_reply)
        return
      elif verb == b"MAIL":
        self.reset_transaction()
        self.mail_from = address_of(arg)
        self.send(b"250 2.1.0 ok\r\n")
      elif verb == b"RCPT":
        if self.mail_from is None:
          self.send(b"503 5.5.1 MAIL first\r\n")
        elif max_rcpts is not None and len(self.rcpts) >= max_rcpts:
          self.send(b"452 4.5.3 Too many recipients\r\n")
        else:
          self.rcpts.append(address_of(arg))
          self.send(b"250 2.1.5 ok\r\n")
      elif verb == b"DATA":
        if not self.rcpts:
          self.send(b"503 5.5.1 RCPT first\r\n")
          continue
        self.send(b"354 end with <CRLF>.<CRLF>\r\n")
        size = self.read_data()
        if close_after_dot:
          self.sock.close()
          raise Closed()
        if dot_reply is not None:
          self.log.write("S: refused " + dot_reply.decode("ascii").strip())
          self.reset_transaction()
          self.send(dot_reply)
          continue
        self.transactions += 1
        self.log.write("S: transaction %d from=%s to=%s size=%d at=%.6f" % (
          self.transactions, self.mail_from, ",".join(self.rcpts), size, time.time()))
        self.reset_transaction()
        self.send(b"250 2.0.0 queued as %d\r\n" % self.transactions)
      elif verb == b"RSET":
        self.reset_transaction()
        self.send(b"250 2.0.0 ok\r\n")
      elif verb == b"NOOP":
        self.send(b"250 2.0.0 ok\r\n")
      elif verb == b"QUIT":
        self.send(b"221 2.0.0 bye\r\n")
        return
      else:
        self.send(b"502 5.5.2 command not recognized\r\n")

  def auth(self, arg):
    """Accepts any credentials: these scenarios test what happens around AUTH, not AUTH itself."""
    parts = arg.split()
    mechanism = parts[0].upper() if parts else b""
    if mechanism == b"PLAIN":
      if len(parts) < 2:
        self.send(b"334 \r\n")
        self.read_line()
    elif mechanism == b"LOGIN":
      if len(parts) < 2:
        self.send(b"334 VXNlcm5hbWU6\r\n")
        self.read_line()
      self.send(b"334 UGFzc3dvcmQ6\r\n")
      self.read_line()
    else:
      self.send(b"504 5.5.4 mechanism not supported\r\n")
      return
    self.send(b"235 2.7.0 Authentication successful\r\n")

  def read_data(self):
    size = 0
    while True:
      line = self.read_line()
      if line == b".":
        return size
      size += len(line) + 2


def address_of(arg):
  """The address inside FROM:<...> or TO:<...>, or the whole argument when it has no brackets."""
  text = arg.decode("ascii", "replace")
  start, end = text.find("<"), text.find(">")
  return text[start + 1:end] if 0 <= start < end else text


def handle(sock, scenario, log):
  log.write("S: connected")
  try:
    Connection(sock, scenario, log).run()
  except Closed:
    pass
  finally:
    try:
      sock.close()
    except OSError:
      pass
    log.write("S: closed")


def main():
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1"], help="loopback only")
  p.add_argument("--port", type=int, default=0)
  p.add_argument("--scenario", required=True, choices=SCENARIOS)
  p.add_argument("--log")
  args = p.parse_args()
  exit_with_parent()

  log = Log(args.log)
  family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
  listener = socket.socket(family, socket.SOCK_STREAM)
  listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
  listener.bind((args.host, args.port))
  listener.listen(128)

  def stop(signum, frame):
    raise SystemExit(0)
  signal.signal(signal.SIGTERM, stop)
  signal.signal(signal.SIGINT, stop)

  print("READY %d" % listener.getsockname()[1], flush=True)
  while True:
    sock, _ = listener.accept()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    threading.Thread(target=handle, args=(sock, args.scenario, log), daemon=True).start()


if __name__ == "__main__":
  main()
