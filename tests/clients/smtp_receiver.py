#!/usr/bin/env python3
"""A real SMTP receiver for the outbound tests, built on aiosmtpd (pip install aiosmtpd).

usage: smtp_receiver.py --spool DIR [--port N] [--rules FILE] [--lmtp HOST:PORT]
                        [--no-pipelining]

Listens on 127.0.0.1:N (0, the default, picks a free port) and prints one JSON line
{"port": N, "pid": P} once it accepts connections; runs until killed.

Every accepted message is written to DIR as msg-<seq>.eml (the bytes as received) and
msg-<seq>.json ({"mail_from", "rcpt_tos", "seq"}); the .json is renamed into place
last, so a reader that lists *.json never sees half a message. Every MAIL, RCPT and
DATA the server answers is appended to DIR/attempts.jsonl as
{"stage", "address", "reply"}, refused ones included, so a test can tell that a
message was never tried again.

--rules FILE (JSON, re-read at every command; missing means accept everything):
  {"mail": {ADDR: REPLY}, "rcpt": {ADDR: REPLY}, "data": {ADDR: REPLY}}
A "hold" rule ({"hold": {ADDR: true}}) keeps the client waiting at RCPT for ADDR
(logged once as stage "hold") until the rule is removed: a slow relay.
ADDR is a lower-case address or "*"; REPLY is the full reply line, e.g.
"550 5.1.1 <a@b.org>: Recipient address rejected: User unknown". A "data" rule
matches when any recipient of the transaction matches.

The receiver advertises PIPELINING (RFC 2920), as Postfix and most relays do, unless
--no-pipelining is given. Each "mail" line in attempts.jsonl says with "pipelined"
whether more of the client's commands were already waiting behind MAIL FROM, i.e.
whether the client sent its envelope in one write.

--lmtp HOST:PORT hands each accepted message to that LMTP server (Dovecot) for every
recipient before answering 250; the LMTP server's refusal is passed back as is.
"""

import argparse
import asyncio
import json
import os
import smtplib
import sys
import time

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, spool, rules, lmtp, pipelining):
        self.pipelining = pipelining
        self.spool = spool
        self.rules_path = rules
        self.lmtp = lmtp
        self.count = 0

    def rules(self):
        if not self.rules_path:
            return {}
        try:
            with open(self.rules_path) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def rule(self, stage, address):
        table = self.rules().get(stage, {})
        return table.get((address or "").lower()) or table.get("*")

    def log(self, stage, address, reply, **extra):
        line = json.dumps(dict({"stage": stage, "address": address, "reply": reply,
                                "at": time.time()}, **extra))
        with open(os.path.join(self.spool, "attempts.jsonl"), "a") as f:
            f.write(line + "\n")
            f.flush()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        reply = self.rule("mail", address) or "250 2.1.0 Ok"
        # Bytes already read but not yet handled: the rest of a pipelined envelope.
        waiting = len(getattr(server._reader, "_buffer", b""))
        self.log("mail", address, reply, pipelined=waiting > 0)
        if reply.startswith("250"):
            envelope.mail_from = address
            envelope.mail_options.extend(mail_options)
        return reply

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rule("hold", address):
            # A slow relay: keep the client waiting at RCPT until the rule is removed.
            self.log("hold", address, "holding")
            while self.rule("hold", address):
                await asyncio.sleep(0.02)
        reply = self.rule("rcpt", address) or "250 2.1.5 Ok"
        self.log("rcpt", address, reply)
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    def hand_to_lmtp(self, envelope, content):
        host, port = self.lmtp.rsplit(":", 1)
        client = smtplib.LMTP()
        client.connect(host, int(port))
        try:
            client.ehlo("receiver.test")
            refused = client.sendmail(envelope.mail_from or "", envelope.rcpt_tos, content)
            if refused:
                code, msg = next(iter(refused.values()))
                return "%d %s" % (code, msg.decode("utf-8", "replace"))
        except smtplib.SMTPRecipientsRefused as e:
            code, msg = next(iter(e.recipients.values()))
            return "%d %s" % (code, msg.decode("utf-8", "replace"))
        except smtplib.SMTPResponseException as e:
            return "%d %s" % (e.smtp_code, e.smtp_error.decode("utf-8", "replace"))
        finally:
            try:
                client.quit()
            except Exception:
                pass
        return None

    async def handle_DATA(self, server, session, envelope):
        for rcpt in envelope.rcpt_tos:
            reply = self.rule("data", rcpt)
            if reply:
                self.log("data", rcpt, reply)
                return reply
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        if self.lmtp:
            refused = await asyncio.get_running_loop().run_in_executor(
                None, self.hand_to_lmtp, envelope, content)
            if refused:
                self.log("data", ",".join(envelope.rcpt_tos), refused)
                return refused
        self.count += 1
        seq = "%d-%d-%d" % (time.time_ns(), os.getpid(), self.count)
        base = os.path.join(self.spool, "msg-" + seq)
        with open(base + ".eml.tmp", "wb") as f:
            f.write(content)
        os.rename(base + ".eml.tmp", base + ".eml")
        meta = {"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos, "seq": seq}
        with open(base + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(base + ".json.tmp", base + ".json")
        reply = "250 2.0.0 Ok: queued as " + seq
        self.log("data", ",".join(envelope.rcpt_tos), reply)
        return reply


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--spool", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--rules")
    p.add_argument("--lmtp")
    p.add_argument("--no-pipelining", action="store_true")
    args = p.parse_args()
    os.makedirs(args.spool, exist_ok=True)
    handler = Handler(args.spool, args.rules, args.lmtp, not args.no_pipelining)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="receiver.test", ident="frontdesk test receiver"),
        host="127.0.0.1", port=args.port, reuse_address=True)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "pid": os.getpid()}), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
