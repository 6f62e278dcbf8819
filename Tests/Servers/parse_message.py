#!/usr/bin/env python3
"""An independent reading of a message for msc-send's end-to-end tests: Python's email package
(policy=default, which decodes RFC 2047 words, RFC 2231 parameters and transfer encodings) parses
the bytes on stdin and prints what a mail client would show, as JSON:

  {"headers": [[name, decoded value], ...],
   "addresses": {"from": [[display name, addr-spec], ...], "to": ..., "cc": ..., "reply-to": ..., "bcc": ...},
   "parts": [{"type": ..., "filename": ..., "charset": ..., "sha256": ..., "text": ...}, ...],
   "defects": ["part type: defect", ...]}

"text" is the decoded text of text/* parts without a filename; "sha256" is of the decoded bytes.
"""

import email
import email.policy
import hashlib
import json
import sys


def main():
  message = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
  headers = [[name, str(value)] for name, value in message.items()]
  addresses = {}
  for name in ("from", "to", "cc", "reply-to", "bcc"):
    header = message[name]
    if header is not None:
      addresses[name] = [[a.display_name, a.addr_spec] for a in header.addresses]
  parts = []
  defects = ["%s: %r" % (message.get_content_type(), d) for d in message.defects]
  for part in message.walk():
    defects += ["%s: %r" % (part.get_content_type(), d) for d in part.defects]
    if part.is_multipart():
      parts.append({"type": part.get_content_type()})
      continue
    payload = part.get_payload(decode=True) or b""
    entry = {
      "type": part.get_content_type(),
      "filename": part.get_filename(),
      "charset": part.get_content_charset(),
      "sha256": hashlib.sha256(payload).hexdigest(),
    }
    if part.get_content_maintype() == "text" and part.get_filename() is None:
      entry["text"] = part.get_content()
    parts.append(entry)
  json.dump({"headers": headers, "addresses": addresses, "parts": parts, "defects": defects},
            sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
  main()
