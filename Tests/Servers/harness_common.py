"""Pieces both test servers share: they must never outlive the test run that started them."""

import os
import signal
import sys
import threading
import time

# A server still running after this long is a leak (the whole `swift test` stays well under it).
MAX_LIFETIME_SECONDS = 900


def exit_with_parent():
  """Exit when the process that started us is gone (a crashed or killed `swift test`), or after
  MAX_LIFETIME_SECONDS, whichever comes first. Checked once a second on a daemon thread."""
  parent = os.getppid()
  started = time.monotonic()

  def watch():
    while True:
      time.sleep(1)
      if os.getppid() != parent or time.monotonic() - started > MAX_LIFETIME_SECONDS:
        os._exit(3)

  threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def serve_child(child, port):
  """Announce `READY <port>` for a wrapped server process `child`, and stop it by its pid on SIGTERM
  or SIGINT. Stopping polls rather than waits: the main loop must not be inside wait() meanwhile, or
  the two contend for the same lock and every stop takes the full grace period."""

  def stop(*_):
    child.terminate()
    deadline = time.monotonic() + 3
    while child.poll() is None and time.monotonic() < deadline:
      time.sleep(0.01)
    if child.poll() is None:
      child.kill()
    sys.exit(0)

  signal.signal(signal.SIGTERM, stop)
  signal.signal(signal.SIGINT, stop)
  print(f"READY {port}", flush=True)
  while child.poll() is None:
    time.sleep(0.1)
