"""Pieces both test servers share: they must never outlive the test run that started them."""

import os
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
