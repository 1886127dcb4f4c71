#!/usr/bin/env python3
"""Read a mailbox over IMAP as a customer's mail client would (Python's imaplib).

usage: smtp_imap_fetch.py HOST PORT USER PASSWORD OUTDIR

Logs in, selects INBOX, fetches every message (BODY.PEEK[]) and writes each to
OUTDIR/imap-<uid>.eml. Prints a JSON list [{"uid": N, "path": P, "size": S}, ...].
"""

import imaplib
import json
import os
import re
import sys


def main():
    host, port, user, password, outdir = sys.argv[1:6]
    os.makedirs(outdir, exist_ok=True)
    imap = imaplib.IMAP4(host, int(port), timeout=20)
    imap.login(user, password)
    typ, _ = imap.select("INBOX", readonly=True)
    assert typ == "OK", typ
    typ, data = imap.uid("SEARCH", None, "ALL")
    assert typ == "OK", typ
    out = []
    for uid in (data[0] or b"").split():
        typ, fetched = imap.uid("FETCH", uid, "(BODY.PEEK[])")
        assert typ == "OK", typ
        for item in fetched:
            if isinstance(item, tuple) and re.search(rb"BODY\[\]", item[0]):
                path = os.path.join(outdir, "imap-%s.eml" % uid.decode())
                with open(path, "wb") as f:
                    f.write(item[1])
                out.append({"uid": int(uid), "path": path, "size": len(item[1])})
    imap.logout()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
