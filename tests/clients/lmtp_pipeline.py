#!/usr/bin/env python3
"""PIPELINING over a raw socket: several commands in one write, every reply checked in order.

usage: lmtp_pipeline.py HOST PORT MODE RCPT FILE...

MODE "rfc2920": groups as RFC 2920 allows - MAIL, RCPT..., DATA in one write; after the
  354, the message, the final dot and the next MAIL/RCPT/DATA in one write.
MODE "burst": after LHLO, every transaction for every FILE and QUIT in a single write.

Every message goes to RCPT and to nobody@example.com (refused), so each transaction
expects 250 (MAIL), 250 (RCPT), 550 (RCPT), 354 (DATA), 250 (after the dot).
Prints {"lhlo": [code...], "replies": [[code, text]...], "writes": N}.
"""

import json
import socket
import sys


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def stuffed(data):
    data = crlf(data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    lines = data.split(b"\r\n")[:-1]
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n" for l in lines) + b".\r\n"


class Replies:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def one(self):
        """One (possibly multi-line) reply: (code, [lines])."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            line = line.decode("utf-8", "replace")
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines


def transaction(rcpt, i):
    return (
        b"MAIL FROM:<customer%d@example.org>\r\n" % i
        + b"RCPT TO:<" + rcpt.encode() + b">\r\n"
        + b"RCPT TO:<nobody@example.com>\r\n"
        + b"DATA\r\n"
    )


def main():
    host, port, mode, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    bodies = []
    for path in sys.argv[5:]:
        with open(path, "rb") as f:
            bodies.append(stuffed(f.read()))
    sock = socket.create_connection((host, port), timeout=20)
    r = Replies(sock)
    greeting = r.one()
    assert greeting[0] == 220, greeting
    sock.sendall(b"LHLO pipeline.example\r\n")
    code, lhlo = r.one()
    replies = []
    writes = 0

    def collect(n):
        for _ in range(n):
            code, lines = r.one()
            replies.append([code, " / ".join(lines)])

    if mode == "rfc2920":
        sock.sendall(transaction(rcpt, 0))
        writes += 1
        collect(4)
        for i, body in enumerate(bodies):
            if i + 1 < len(bodies):
                sock.sendall(body + transaction(rcpt, i + 1))
                writes += 1
                collect(1 + 4)
            else:
                sock.sendall(body + b"QUIT\r\n")
                writes += 1
                collect(1 + 1)
    elif mode == "burst":
        block = b"".join(transaction(rcpt, i) + body for i, body in enumerate(bodies)) + b"QUIT\r\n"
        sock.sendall(block)
        writes += 1
        collect(5 * len(bodies) + 1)
    else:
        raise SystemExit("unknown mode %r" % (mode,))
    sock.close()
    print(json.dumps({"lhlo": [code, lhlo], "replies": replies, "writes": writes}))


if __name__ == "__main__":
    main()
