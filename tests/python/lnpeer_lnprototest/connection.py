"""One BOLT 8 connection from the test harness to lnpeerd, on pyln-proto's Noise state.

pyln-proto's `LightningConnection` does the handshake and holds the keys and nonces. Frames
are sealed and opened here rather than with its `send_message`/`read_message`, for three
reasons: a frame goes out in one `sendall` (pyln-proto makes two `send` calls), a read
collects exactly the bytes of one frame however TCP splits them (pyln-proto's single
`recv(18)` fails on a short read), and a read tells a closed connection from a timeout, which
`ExpectDisconnect` and the final check need. The nonce and key-rotation rules are still
pyln-proto's (`nonce`, `_maybe_rotate_keys`), so this is pinned to the pyln-proto version in
`requirements.txt`.
"""

import socket
import struct
from enum import Enum
from typing import Optional, Tuple

import lnprototest
import pyln.proto.wire as wire
from cryptography.exceptions import InvalidTag

# BOLT 8: a 2-byte length sealed with a 16-byte MAC, then the body and its 16-byte MAC.
HEADER_LEN = 18
MAC_LEN = 16


class ReadStatus(Enum):
    """How a read ended."""

    MESSAGE = "message"
    # The node closed the connection (EOF or a reset).
    CLOSED = "closed"
    # Nothing complete arrived in time; what did arrive is kept for the next read.
    TIMEOUT = "timeout"


class BadFrame(Exception):
    """The node sent a frame whose MAC does not verify."""


class LnpeerConn(lnprototest.Conn):
    """A connection to lnpeerd as the node with private key `connprivkey` (lnprototest's
    short hex form, left-padded to 32 bytes)."""

    def __init__(self, connprivkey: str, node_id: bytes, port: int, timeout: float):
        super().__init__(connprivkey)
        sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        try:
            self.connection = wire.LightningConnection(
                sock,
                wire.PublicKey(node_id),
                wire.PrivateKey(self.connprivkey.secret),
                is_initiator=True,
            )
            self.connection.shake()
        except Exception:
            sock.close()
            raise
        self.sock = sock
        # Received bytes not yet taken as a whole frame.
        self.pending = bytearray()

    def seal(self, message: bytes) -> bytes:
        """`message` (type and payload) as one encrypted frame; uses two nonces."""
        lc = self.connection
        with lc.send_lock:
            header = wire.encryptWithAD(
                lc.sk, lc.nonce(lc.sn), b"", struct.pack("!H", len(message))
            )
            body = wire.encryptWithAD(lc.sk, lc.nonce(lc.sn + 1), b"", message)
            lc.sn += 2
            lc._maybe_rotate_keys()
        return header + body

    def write(self, data: bytes) -> None:
        """Writes raw bytes to the socket (sealed frames, or deliberately broken ones)."""
        self.sock.sendall(data)

    def read(self, timeout: float) -> Tuple[Optional[bytes], ReadStatus]:
        """The next message (type and payload) and `MESSAGE`, or None and why not.

        Raises `BadFrame` if a MAC does not verify.
        """
        lc = self.connection
        status = self._fill(HEADER_LEN, timeout)
        if status is not ReadStatus.MESSAGE:
            return None, status
        try:
            length_bytes = wire.decryptWithAD(
                lc.rk, lc.nonce(lc.rn), b"", bytes(self.pending[:HEADER_LEN])
            )
        except InvalidTag as error:
            raise BadFrame("the length header's MAC does not verify") from error
        (length,) = struct.unpack("!H", length_bytes)
        frame_len = HEADER_LEN + length + MAC_LEN
        status = self._fill(frame_len, timeout)
        if status is not ReadStatus.MESSAGE:
            return None, status
        try:
            message = wire.decryptWithAD(
                lc.rk, lc.nonce(lc.rn + 1), b"", bytes(self.pending[HEADER_LEN:frame_len])
            )
        except InvalidTag as error:
            raise BadFrame(f"the MAC of a {length}-byte body does not verify") from error
        del self.pending[:frame_len]
        lc.rn += 2
        lc._maybe_rotate_keys()
        return message, ReadStatus.MESSAGE

    def _fill(self, wanted: int, timeout: float) -> ReadStatus:
        """Reads until `pending` holds `wanted` bytes."""
        self.sock.settimeout(timeout)
        while len(self.pending) < wanted:
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return ReadStatus.TIMEOUT
            except (ConnectionResetError, BrokenPipeError):
                return ReadStatus.CLOSED
            if not chunk:
                return ReadStatus.CLOSED
            self.pending += chunk
        return ReadStatus.MESSAGE

    def close(self) -> None:
        self.sock.close()
