#!/usr/bin/env python3
"""dnsmasq (Debian's dnsmasq-base) as a test DNS server: a real, independent resolver serving the
records the test gives, on a free high loopback port. This wrapper picks the port, starts
/usr/sbin/dnsmasq there in the foreground with no upstream servers and no /etc/hosts, waits until
it answers a query (bounded), prints "READY <port>", and stops it by its pid on SIGTERM. It exits
with its parent (a crashed test run leaves nothing behind).

Everything after "--" goes to dnsmasq unchanged, e.g.
  dnsmasq_server.py -- --local=/test/ --txt-record=acme.test,"v=spf1 -all" --host-record=mail.acme.test,127.0.0.1
"""

import argparse
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import time

from harness_common import exit_with_parent, serve_child

DNSMASQ = "/usr/sbin/dnsmasq"


def free_port(host):
  # A port free for both UDP and TCP (dnsmasq serves both on it).
  for _ in range(20):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
      udp.bind((host, 0))
      port = udp.getsockname()[1]
      with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
        try:
          tcp.bind((host, port))
          return port
        except OSError:
          continue
  sys.exit("no free port")


def answers(host, port, timeout):
  """Whether a query gets any response (REFUSED for a name outside --local is fine)."""
  ident = random.randrange(65536)
  query = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + b"\x05ready\x07invalid\x00" + struct.pack(">HH", 1, 1)
  with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
    probe.settimeout(timeout)
    try:
      probe.sendto(query, (host, port))
      data = probe.recv(512)
      return len(data) >= 2 and struct.unpack(">H", data[:2])[0] == ident
    except OSError:
      return False


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--host", default="127.0.0.1")
  parser.add_argument("options", nargs=argparse.REMAINDER)
  args = parser.parse_args()
  options = args.options[1:] if args.options[:1] == ["--"] else args.options
  if not os.access(DNSMASQ, os.X_OK):
    sys.exit(f"{DNSMASQ} not found: install Debian's dnsmasq-base package (see .ci/run)")
  exit_with_parent()
  for _ in range(5):
    port = free_port(args.host)
    command = [
      DNSMASQ, "--no-daemon", "--no-resolv", "--no-hosts", "--no-poll", f"--port={port}",
      f"--listen-address={args.host}", "--bind-interfaces", "--pid-file=", "--log-facility=-", "--cache-size=0",
    ] + options
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and child.poll() is None:
      if answers(args.host, port, 0.2):
        break
    if child.poll() is None and answers(args.host, port, 1):
      break
    if child.poll() is None:
      child.kill()
      child.wait()
  else:
    sys.exit("dnsmasq did not start")

  serve_child(child, port)


if __name__ == "__main__":
  main()
