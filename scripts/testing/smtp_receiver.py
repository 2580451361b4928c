"""A real SMTP server on loopback for the alert-email tests (aiosmtpd, from PyPI).

Usage: python3 smtp_receiver.py OUT_DIR
Listens on 127.0.0.1 at a free port, prints "ready <port>" once it accepts mail, and writes
each message it receives to OUT_DIR as <n>.eml (the envelope recipients in <n>.rcpt). It runs
until its standard input closes, so it dies with the test that started it.
"""

import os
import socket
import sys
import threading

from aiosmtpd.controller import Controller


class Store:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.count += 1
            n = self.count
        base = os.path.join(self.out_dir, str(n))
        with open(base + ".rcpt.tmp", "w") as f:
            f.write("\n".join(envelope.rcpt_tos))
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.content)
        os.rename(base + ".rcpt.tmp", base + ".rcpt")
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    port = free_port()
    controller = Controller(Store(out_dir), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"ready {port}", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
