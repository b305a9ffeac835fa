"""A minimal client of the milter protocol (libmilter's, version 6), for what
miltertest cannot send: values longer than its 1 KB buffers (Postfix itself
refuses commands over 2048 bytes). Any local process that reaches a milter's
socket can send them, which is what the tests play."""

import socket
import struct

NR_CONN = 0x1000  # SMFIP_NR_CONN: the milter sends no reply to connect
NR_MAIL = 0x4000  # SMFIP_NR_MAIL: nor to MAIL
NR_RCPT = 0x8000  # SMFIP_NR_RCPT: nor to RCPT


class MilterSession:
    """One milter connection: negotiate, connect, then MAIL, RCPT, EOM."""

    def __init__(self, path, timeout=30):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        # Every action and every protocol step may be skipped: the milter picks.
        self.send(b"O", struct.pack("!III", 6, 0x1FF, 0x1FFFFF))
        cmd, data = self.read()
        assert cmd == b"O", cmd
        _, self.actions, self.protocol = struct.unpack("!III", data[:12])

    def send(self, cmd, data=b""):
        self.sock.sendall(struct.pack("!I", len(data) + 1) + cmd + data)

    def read(self):
        header = self._exactly(5)
        size = struct.unpack("!I", header[:4])[0]
        return header[4:5], self._exactly(size - 1)

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the milter closed the connection")
            data += chunk
        return data

    def connect(self, hostname="client.lab.test", address="127.0.0.1"):
        """The reply's command byte; None when the milter asked for no reply."""
        self.send(b"C", hostname.encode() + b"\0" + b"4" + struct.pack("!H", 25) + address.encode() + b"\0")
        return None if self.protocol & NR_CONN else self.read()[0]

    def macros(self, stage, values):
        self.send(b"D", stage + b"".join(f"{k}\0{v}\0".encode() for k, v in values.items()))

    def mail(self, sender):
        self.send(b"M", f"<{sender}>\0".encode())
        return None if self.protocol & NR_MAIL else self.read()[0]

    def rcpt(self, recipient):
        """Returns the reply's command byte: b"c" continue, b"y" a reply code, b"t" tempfail;
        None when the milter asked for no reply."""
        self.macros(b"R", {"{rcpt_addr}": recipient})
        self.send(b"R", f"<{recipient}>\0".encode())
        return None if self.protocol & NR_RCPT else self.read()[0]

    def eom(self):
        """Returns the actions asked at end of message, the final reply last."""
        self.send(b"E")
        replies = []
        while not replies or replies[-1][0] in (b"h", b"q", b"+", b"-", b"m", b"i", b"e", b"f", b"p"):
            replies.append(self.read())
        return replies

    def close(self):
        self.send(b"Q")
        self.sock.close()
