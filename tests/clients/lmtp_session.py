#!/usr/bin/env python3
"""Drive one LMTP session with Python's smtplib.LMTP, an independent client.

usage: lmtp_session.py HOST PORT STEPS.json

STEPS.json is a list of steps; each is a list whose first item names it:
  ["lhlo", DOMAIN]              LHLO (smtplib's ehlo() speaks LHLO on an LMTP object)
  ["mail", FROM, [OPTIONS..]]   MAIL FROM:<FROM> OPTIONS (e.g. "SIZE=123")
  ["rcpt", TO]                  RCPT TO:<TO>
  ["data", FILE, N]             DATA with the bytes of FILE (line ends made CRLF,
                                dot-stuffed by smtplib), then read N replies in all
                                (LMTP: one per accepted recipient)
  ["cmd", VERB, ARGS]           any command line, e.g. ["cmd", "HELO", "x"]
  ["rset"], ["noop"], ["quit"]
  ["wait"]                      read one unsolicited reply (e.g. a 421 on idle timeout)

Prints a JSON list with one entry per step (the greeting first): the list of
[code, text] replies that step got. A connection the server closed gives [-1, why].
"""

import json
import smtplib
import socket
import sys


def crlf(data):
    data = data.replace(b"\r\n", b"\n")
    return data.replace(b"\n", b"\r\n")


def text(msg):
    return msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)


def main():
    host, port, steps_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(steps_file) as f:
        steps = json.load(f)
    out = []
    lmtp = smtplib.LMTP()
    lmtp.timeout = 20
    code, msg = lmtp.connect(host, port)
    lmtp.sock.settimeout(20)
    out.append([[code, text(msg)]])
    for step in steps:
        name = step[0]
        try:
            if name == "lhlo":
                code, msg = lmtp.ehlo(step[1])
                out.append([[code, text(msg)]])
            elif name == "mail":
                code, msg = lmtp.mail(step[1], step[2] if len(step) > 2 else [])
                out.append([[code, text(msg)]])
            elif name == "rcpt":
                code, msg = lmtp.rcpt(step[1])
                out.append([[code, text(msg)]])
            elif name == "data":
                with open(step[1], "rb") as f:
                    body = crlf(f.read())
                want = step[2] if len(step) > 2 else 1
                got = []
                try:
                    code, msg = lmtp.data(body)
                    got.append([code, text(msg)])
                except smtplib.SMTPDataError as e:
                    # DATA itself refused (no 354): that is the only reply.
                    got.append([e.smtp_code, text(e.smtp_error)])
                    want = 1
                while len(got) < want:
                    code, msg = lmtp.getreply()
                    got.append([code, text(msg)])
                out.append(got)
            elif name == "cmd":
                code, msg = lmtp.docmd(step[1], step[2] if len(step) > 2 else "")
                out.append([[code, text(msg)]])
            elif name == "rset":
                code, msg = lmtp.rset()
                out.append([[code, text(msg)]])
            elif name == "noop":
                code, msg = lmtp.noop()
                out.append([[code, text(msg)]])
            elif name == "quit":
                code, msg = lmtp.docmd("QUIT")
                out.append([[code, text(msg)]])
                lmtp.close()
            elif name == "wait":
                code, msg = lmtp.getreply()
                out.append([[code, text(msg)]])
            else:
                raise SystemExit("unknown step %r" % (name,))
        except (smtplib.SMTPServerDisconnected, ConnectionError, socket.timeout) as e:
            out.append([[-1, "%s: %s" % (type(e).__name__, e)]])
            break
    print(json.dumps(out))


if __name__ == "__main__":
    main()
