#!/usr/bin/env python3
"""Postfix's smtp-sink as a test server: a real, independent SMTP implementation (PIPELINING,
ENHANCEDSTATUSCODES, DSN, 8BITMIME). This wrapper picks a free loopback port, starts
/usr/sbin/smtp-sink there with each transaction dumped under --dump DIR, waits until it accepts
connections, prints "READY <port>", and stops it on SIGTERM. smtp-sink needs a user to drop to when
started as root; the dump folder is made writable for it.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from harness_common import exit_with_parent, serve_child

SMTP_SINK = "/usr/sbin/smtp-sink"


def free_port(host):
  with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
    probe.bind((host, 0))
    return probe.getsockname()[1]


def main():
  parser = argparse.ArgumentParser()
  parser.add_argument("--host", default="127.0.0.1")
  parser.add_argument("--dump", required=True)
  args = parser.parse_args()
  if not os.access(SMTP_SINK, os.X_OK):
    sys.exit(f"{SMTP_SINK} not found: install Debian's postfix package (see .ci/run)")
  os.makedirs(args.dump, exist_ok=True)
  os.chmod(args.dump, 0o1777)
  exit_with_parent()
  for _ in range(5):
    port = free_port(args.host)
    command = [SMTP_SINK]
    if os.geteuid() == 0:
      command += ["-u", "nobody"]
    address = f"[{args.host}]:{port}" if ":" in args.host else f"{args.host}:{port}"
    command += ["-d", os.path.join(args.dump, "%Y%m%d%H%M%S."), address, "32"]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and child.poll() is None:
      try:
        with socket.create_connection((args.host, port), timeout=1) as probe:
          probe.recv(64)  # the greeting: it really is smtp-sink answering
        break
      except OSError:
        time.sleep(0.05)
    if child.poll() is None:
      break
  else:
    sys.exit("smtp-sink did not start")

  serve_child(child, port)


if __name__ == "__main__":
  main()
