#!/usr/bin/env python3
"""Stream generated messages over several LMTP connections (smtplib.LMTP) for the crash test.

usage: lmtp_stream.py HOST PORT SEED COUNT CONNS RCPT [INDEX...]

Message i (0 <= i < COUNT) is generated from SEED and i alone, so a retry sends the very
same bytes. Each message carries its token CRASH-iiiii in the Subject; one in ten has no
Message-ID (it dedupes by content hash), about one in four is a reply (In-Reply-To and
References to an earlier message), and sizes vary from about 300 bytes to about 6 KiB.

Without INDEX arguments every message is sent; otherwise only the indexes given (a
retry). Work is shared by CONNS connections. For each 250 after DATA the line
"ACK i" is printed (and flushed) at once, so a watcher can act on progress. A connection
that breaks (the daemon was killed) ends that worker; what it had not sent stays unsent.
At the end one line: "DONE {json}" with "acked", "refused" ([i, code, text]) and "lost"
(sent, no answer: i) lists.
"""

import json
import queue
import random
import smtplib
import sys
import threading

WORDS = ("printer invoice refund login password broken thanks urgent order shipping "
         "account please help delivery update question error screen billing").split()


def message(seed, i):
    rng = random.Random("%s-%d" % (seed, i))
    token = "CRASH-%05d" % i
    has_id = i % 10 != 7
    lines = [
        "From: Customer %d <customer%d@example.org>" % (i % 37, i % 37),
        "To: support@example.com",
        "Subject: %s %s %s" % (rng.choice(WORDS), token, rng.choice(WORDS)),
        "Date: Tue, 4 Mar 2025 %02d:%02d:%02d +0000" % (i // 3600 % 24, i // 60 % 60, i % 60),
    ]
    if has_id:
        lines.append("Message-ID: <crash-%d.%s@test.example>" % (i, seed))
    if i > 20 and rng.random() < 0.25:
        # A reply to an earlier message that has a Message-ID.
        j = i - rng.randint(1, 20)
        if j % 10 == 7:
            j -= 1
        lines.append("In-Reply-To: <crash-%d.%s@test.example>" % (j, seed))
        lines.append("References: <crash-%d.%s@test.example>" % (j, seed))
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", ""]
    body_lines = rng.randint(3, 80)
    for n in range(body_lines):
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 12)))
        if n % 17 == 5:
            line = "." + line  # exercises dot-stuffing
        lines.append(line)
    lines.append("-- token %s" % token)
    return ("\r\n".join(lines) + "\r\n").encode()


def main():
    host, port, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    count, conns, rcpt = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
    indexes = [int(a) for a in sys.argv[7:]] or list(range(count))
    work = queue.Queue()
    for i in indexes:
        work.put(i)
    lock = threading.Lock()
    acked, refused, lost = [], [], []

    def worker():
        try:
            lmtp = smtplib.LMTP()
            lmtp.timeout = 30
            lmtp.connect(host, port)
            lmtp.sock.settimeout(30)
            code, _ = lmtp.ehlo("stream.example")
            if code != 250:
                return
        except (OSError, smtplib.SMTPException):
            return
        while True:
            try:
                i = work.get_nowait()
            except queue.Empty:
                break
            try:
                code, msg = lmtp.mail("customer%d@example.org" % (i % 37))
                if code == 250:
                    code, msg = lmtp.rcpt(rcpt)
                if code == 250:
                    code, msg = lmtp.data(message(seed, i))
            except smtplib.SMTPDataError as e:
                code, msg = e.smtp_code, e.smtp_error
            except (OSError, smtplib.SMTPException) as e:
                with lock:
                    lost.append(i)
                return
            with lock:
                if code == 250:
                    acked.append(i)
                    sys.stdout.write("ACK %d\n" % i)
                    sys.stdout.flush()
                else:
                    refused.append([i, code, msg.decode("utf-8", "replace")])
                    try:
                        lmtp.rset()
                    except (OSError, smtplib.SMTPException):
                        return
        try:
            lmtp.quit()
        except (OSError, smtplib.SMTPException):
            pass

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sys.stdout.write("DONE %s\n" % json.dumps({"acked": sorted(acked), "refused": refused, "lost": sorted(lost)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
