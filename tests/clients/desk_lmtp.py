#!/usr/bin/env python3
"""Deliver a batch of messages over one LMTP session with Python's smtplib.LMTP.

usage: desk_lmtp.py HOST PORT MESSAGES.json

MESSAGES.json is a list of {"mail_from": ADDR, "rcpt": ADDR, "data": TEXT}; each is sent
in turn (MAIL, RCPT, DATA) on one connection, so the daemon sees them in this order.
Line ends are made CRLF. Prints a JSON list with, per message, [code, text] of the one
reply to DATA (or of the RCPT refusal).
"""

import json
import smtplib
import sys


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(path) as f:
        messages = json.load(f)
    lmtp = smtplib.LMTP()
    lmtp.connect(host, port)
    lmtp.sock.settimeout(30)
    lmtp.ehlo("mx.example.org")
    out = []
    for m in messages:
        data = m["data"].replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")
        code, msg = lmtp.mail(m["mail_from"])
        if code != 250:
            out.append([code, msg.decode("utf-8", "replace")])
            lmtp.rset()
            continue
        code, msg = lmtp.rcpt(m["rcpt"])
        if code != 250:
            out.append([code, msg.decode("utf-8", "replace")])
            lmtp.rset()
            continue
        try:
            code, msg = lmtp.data(data)
        except smtplib.SMTPDataError as e:
            code, msg = e.smtp_code, e.smtp_error
        out.append([code, msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)])
    lmtp.quit()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
