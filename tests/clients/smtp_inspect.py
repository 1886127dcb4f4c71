#!/usr/bin/env python3
"""Read a message the way a mail client would, with Python's email package.

usage: smtp_inspect.py FILE...

Prints a JSON list, one object per FILE:
  raw_headers   [[name, value as it is on the wire (folding removed)], ...]
  headers       {lower-case name: [decoded value (RFC 2047 decoded), ...]}
  from, reply_to, to, cc   [{"name": display name, "address": addr-spec}, ...]
  message_id, in_reply_to  the id without brackets, or null
  references    [ids without brackets]
  structure     the MIME tree, e.g. "multipart/mixed(multipart/alternative(text/plain,text/html),application/pdf)"
  parts         leaf parts: {"type", "charset", "filename", "disposition", "text" (decoded,
                for text/*), "size" (decoded bytes)}
  defects       every parser defect, as text (a standards-clean message has none)
"""

import email
import email.policy
import email.utils
import json
import re
import sys


def ids(value):
    return re.findall(r"<([^<>\s]+)>", value or "")


def addresses(msg, name):
    values = msg.get_all(name) or []
    return [{"name": n, "address": a} for n, a in email.utils.getaddresses([str(v) for v in values])]


def structure(part):
    if part.is_multipart():
        return "%s(%s)" % (part.get_content_type(),
                           ",".join(structure(p) for p in part.iter_parts()))
    return part.get_content_type()


def inspect(path):
    with open(path, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    compat = email.message_from_bytes(raw, policy=email.policy.compat32)
    raw_headers = [[k, re.sub(r"\r?\n[ \t]", " ", str(v))] for k, v in compat.raw_items()]
    headers = {}
    for k, v in msg.items():
        headers.setdefault(k.lower(), []).append(str(v))
    defects = []
    parts = []
    for part in msg.walk():
        defects.extend("%s: %s" % (part.get_content_type(), d.__class__.__name__)
                       for d in part.defects)
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        entry = {
            "type": part.get_content_type(),
            "charset": part.get_content_charset(),
            "filename": part.get_filename(),
            "disposition": part.get_content_disposition(),
            "size": len(payload),
        }
        if part.get_content_maintype() == "text":
            entry["text"] = part.get_content()
        parts.append(entry)
    for k in msg.keys():
        for v in msg.get_all(k):
            defects.extend("%s: %s" % (k, d.__class__.__name__)
                           for d in getattr(v, "defects", ()))
    mid = ids(msg.get("Message-ID"))
    irt = ids(msg.get("In-Reply-To"))
    return {
        "raw_headers": raw_headers,
        "headers": headers,
        "from": addresses(msg, "From"),
        "reply_to": addresses(msg, "Reply-To"),
        "to": addresses(msg, "To"),
        "cc": addresses(msg, "Cc"),
        "message_id": mid[0] if mid else None,
        "in_reply_to": irt[0] if irt else None,
        "references": ids(" ".join(str(v) for v in msg.get_all("References") or [])),
        "subject": str(msg.get("Subject", "")),
        "structure": structure(msg),
        "parts": parts,
        "defects": defects,
    }


if __name__ == "__main__":
    print(json.dumps([inspect(p) for p in sys.argv[1:]]))
