"""BOLT 1 conformance cases against a running lnpeerd, with pyln-proto as the scripted peer.

Usage: bolt1_conformance.py <case> <port> <node_id> <rpc_file> [args...]

Each case connects to 127.0.0.1:<port> (pyln-proto's BOLT 8 handshake), speaks BOLT 1
messages built by hand, and checks what the node answers: feature bits and networks in
`init`, the odd/even rule for messages, `init` ordering, ping/pong sizes, malformed `init`s,
a wrong static key, byte-at-a-time and coalesced delivery, and 1,100+ messages each way
across BOLT 8 key rotations.

Protocol with the Rust side (tests/bolt1_conformance.rs), one JSON object per stdout line:
- `{"event": name, ...}`: something the Rust side may act on (e.g. our node id, so it can call
  `listpeers`); the script goes on without waiting.
- `{"checkpoint": name, ...}`: the script waits for one line on stdin before going on, so the
  Rust side can inspect the node (RPC, log) while the connection is in a known state. While
  waiting it keeps serving the connection (answering the node's pings) when asked to.
- `{"result": {...}}`: the last line; what the case observed, for the Rust side's assertions.
A failed check raises: traceback on stderr, exit status 1. Every socket read has a timeout
and an alarm bounds the whole run, so nothing can hang. The RPC socket is only used as a
barrier (see Peer.exchange_init); the Rust side makes the RPC assertions.
"""

import json
import os
import select
import signal
import socket
import struct
import sys
import time

from pyln.client import LightningRpc
from pyln.proto.wire import LightningConnection, PrivateKey, PublicKey

# Longest wait for any single read from the node.
TIMEOUT = 10.0
# Bound on a whole case: far above any case's normal run, well below the Rust side's limit.
RUN_LIMIT = 90

# Chain hashes as they appear on the wire: the genesis block hash in internal byte order, the
# reverse of the hex bitcoin-cli displays (regtest's genesis displays as 0f9188f1...2206).
REGTEST = bytes.fromhex("06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f")
MAINNET = bytes.fromhex("6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000")

T_WARNING, T_INIT, T_ERROR, T_PING, T_PONG = 1, 16, 17, 18, 19


class Failure(Exception):
    """A conformance check failed."""


class Closed(Exception):
    """The node closed the connection (EOF or reset) where a message could start."""


def need(condition, message):
    if not condition:
        raise Failure(message)


def emit(obj):
    print(json.dumps(obj), flush=True)


# ---------------------------------------------------------------------------------------
# Message encoding and decoding (written by hand: type u16 BE, then the payload).


def u16(n):
    return struct.pack(">H", n)


def bigsize(n):
    if n < 0xFD:
        return bytes([n])
    if n < 0x10000:
        return b"\xfd" + struct.pack(">H", n)
    if n < 0x100000000:
        return b"\xfe" + struct.pack(">I", n)
    return b"\xff" + struct.pack(">Q", n)


def tlv(ty, value):
    return bigsize(ty) + bigsize(len(value)) + value


def feature_bits(bits):
    """A BOLT 9 bitmap (bit 0 is the least significant bit of the last byte), minimal."""
    if not bits:
        return b""
    size = max(bits) // 8 + 1
    out = bytearray(size)
    for bit in bits:
        out[size - 1 - bit // 8] |= 1 << (bit % 8)
    return bytes(out)


def init_msg(features=b"", globalfeatures=b"", networks=(REGTEST,), extra_tlvs=b""):
    """An init; `networks=None` leaves the networks TLV out. `extra_tlvs` go after it."""
    tlvs = b""
    if networks is not None:
        tlvs += tlv(1, b"".join(networks))
    tlvs += extra_tlvs
    return (u16(T_INIT) + u16(len(globalfeatures)) + globalfeatures
            + u16(len(features)) + features + tlvs)


def ping_msg(num_pong_bytes, ignored_len=0):
    return u16(T_PING) + u16(num_pong_bytes) + u16(ignored_len) + bytes(ignored_len)


def pong_msg(byteslen):
    return u16(T_PONG) + u16(byteslen) + bytes(byteslen)


def msg_type(message):
    need(len(message) >= 2, "message shorter than its type: %s" % message.hex())
    return struct.unpack(">H", message[:2])[0]


def take(data, offset, n, what):
    need(offset + n <= len(data), "truncated %s in %s" % (what, data.hex()))
    return data[offset:offset + n], offset + n


def take_bigsize(data, offset, what):
    first, offset = take(data, offset, 1, what)
    width = {0xFD: 2, 0xFE: 4, 0xFF: 8}.get(first[0])
    if width is None:
        return first[0], offset
    raw, offset = take(data, offset, width, what)
    return int.from_bytes(raw, "big"), offset


def parse_init(message):
    """(globalfeatures, features, {tlv type: value}) of an init, checking its TLV order."""
    need(msg_type(message) == T_INIT, "expected init, got %s" % message.hex())
    raw, off = take(message, 2, 2, "init.gflen")
    gf, off = take(message, off, struct.unpack(">H", raw)[0], "init.globalfeatures")
    raw, off = take(message, off, 2, "init.flen")
    f, off = take(message, off, struct.unpack(">H", raw)[0], "init.features")
    tlvs, last = {}, -1
    while off < len(message):
        ty, off = take_bigsize(message, off, "init tlv type")
        ln, off = take_bigsize(message, off, "init tlv length")
        value, off = take(message, off, ln, "init tlv value")
        need(ty > last, "init TLVs not strictly increasing: %s" % message.hex())
        tlvs[ty], last = value, ty
    return gf, f, tlvs


def parse_warning(message):
    """(type, channel_id hex, text) of a warning or error."""
    ty = msg_type(message)
    need(ty in (T_WARNING, T_ERROR), "expected warning/error, got %s" % message.hex())
    channel_id, off = take(message, 2, 32, "warning.channel_id")
    raw, off = take(message, off, 2, "warning.len")
    data, off = take(message, off, struct.unpack(">H", raw)[0], "warning.data")
    return ty, channel_id.hex(), data.decode("ascii", "replace")


def parse_pong(message):
    """(byteslen, ignored) of a pong; the ignored bytes are what follows byteslen."""
    need(msg_type(message) == T_PONG, "expected pong, got %s" % message.hex()[:80])
    raw, off = take(message, 2, 2, "pong.byteslen")
    return struct.unpack(">H", raw)[0], message[off:]


# ---------------------------------------------------------------------------------------
# Transport: pyln-proto's LightningConnection over a socket wrapper.


class Stream:
    """What LightningConnection writes to and reads from.

    pyln-proto calls `recv(n)` once and treats a short read as an error, and `send` without
    looping; over TCP both can legitimately be partial, so this wrapper reads exactly `n`
    bytes and sends everything. It can also capture what pyln-proto would send (to get the
    encrypted bytes of a message) or send byte by byte (`dribble`).
    """

    def __init__(self, sock):
        self.sock = sock
        self.dribble = False
        self.capture = None
        self.sends = 0

    def send(self, data):
        data = bytes(data)
        if self.capture is not None:
            self.capture.append(data)
        elif self.dribble:
            self.dribble_out(data)
        else:
            self.sock.sendall(data)
            self.sends += 1
        return len(data)

    def dribble_out(self, data):
        # TCP_NODELAY is set and each byte is its own send, with a pause so the node's
        # reads see them one at a time.
        for i in range(len(data)):
            self.sock.sendall(data[i:i + 1])
            self.sends += 1
            time.sleep(0.001)

    def recv(self, n):
        buf = b""
        while len(buf) < n:
            try:
                chunk = self.sock.recv(n - len(buf))
            except ConnectionResetError:
                chunk = b""
            except socket.timeout:
                raise Failure("no data from the node for %.0f s (had %d of %d bytes)"
                              % (self.sock.gettimeout(), len(buf), n))
            if not chunk:
                if not buf:
                    raise Closed()
                break
            buf += chunk
        return buf


class Node:
    """The node under test: P2P port, id, and RPC socket (used only as a barrier)."""

    def __init__(self, port, node_id, rpc_file):
        self.port, self.id, self.rpc_file = int(port), node_id, rpc_file

    def wait_connected(self, peer_id):
        """Waits until the node lists `peer_id` as connected, i.e. it has taken our init."""
        rpc = LightningRpc(self.rpc_file)
        deadline = time.monotonic() + TIMEOUT
        while True:
            peers = rpc.listpeers(peer_id)["peers"]
            if peers and peers[0].get("connected"):
                return
            need(time.monotonic() < deadline,
                 "node did not list %s as connected within %.0f s" % (peer_id, TIMEOUT))
            time.sleep(0.005)


class Peer:
    """One connection to the node, handshaken (BOLT 8) by pyln-proto."""

    def __init__(self, node, dribble=False):
        self.node = node
        self.key = PrivateKey(os.urandom(32))
        self.id = self.key.public_key().serializeCompressed().hex()
        sock = socket.create_connection(("127.0.0.1", node.port), timeout=TIMEOUT)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.local_port = sock.getsockname()[1]
        self.stream = Stream(sock)
        self.stream.dribble = dribble
        remote = PublicKey(bytes.fromhex(node.id))
        self.conn = LightningConnection(self.stream, remote, self.key, is_initiator=True)
        self.conn.shake()
        self.stream.dribble = False

    def close(self):
        self.stream.sock.close()

    def send(self, message):
        self.conn.send_message(message)

    def encrypt(self, message):
        """The encrypted frame of `message`; the cipher state advances as if it was sent,
        so the caller must send exactly these bytes next."""
        self.stream.capture = []
        try:
            self.conn.send_message(message)
            return b"".join(self.stream.capture)
        finally:
            self.stream.capture = None

    def send_raw(self, data, dribble=False):
        if dribble:
            self.stream.dribble_out(data)
        else:
            self.stream.sock.sendall(data)

    def recv(self, timeout=TIMEOUT):
        self.stream.sock.settimeout(timeout)
        try:
            return self.conn.read_message()
        finally:
            self.stream.sock.settimeout(TIMEOUT)

    def answer_ping(self, message):
        num_pong_bytes = struct.unpack(">H", message[2:4])[0]
        if num_pong_bytes < 65532:
            self.send(pong_msg(num_pong_bytes))

    def poll(self, timeout):
        """The next message that is not a ping (those get their pong), or None if none
        started within `timeout`. The node closing the connection is a Failure."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            # Wait for the first byte here: a timeout inside a message would lose its start.
            ready, _, _ = select.select([self.stream.sock], [], [], left)
            if not ready:
                return None
            try:
                message = self.recv()
            except Closed:
                raise Failure("the node closed the connection of %s" % self.id)
            if msg_type(message) == T_PING:
                self.answer_ping(message)
                continue
            return message

    def recv_app(self, timeout=TIMEOUT):
        """The next message that is not a ping from the node (those get their pong)."""
        while True:
            message = self.recv(timeout)
            if msg_type(message) == T_PING:
                self.answer_ping(message)
                continue
            return message

    def read_node_init(self):
        """The node sends init first, at once: check it carries regtest in networks."""
        message = self.recv()
        _, _, tlvs = parse_init(message)
        need(1 in tlvs, "node init has no networks TLV: %s" % message.hex())
        need(REGTEST in [tlvs[1][i:i + 32] for i in range(0, len(tlvs[1]), 32)],
             "node init networks lack regtest: %s" % tlvs[1].hex())
        return message

    def exchange_init(self, init=None):
        """Reads the node's init and sends ours; what follows may go right behind it (the
        node must handle a message that arrives in the same read as init: case_coalesced)."""
        self.read_node_init()
        self.send(init if init is not None else init_msg())

    def ping_pong(self, num_pong_bytes, ignored_len=0):
        """Ping, and check the next (non-ping) message is the exact pong."""
        self.send(ping_msg(num_pong_bytes, ignored_len))
        reply = self.recv_app()
        byteslen, ignored = parse_pong(reply)
        need(byteslen == num_pong_bytes and len(ignored) == num_pong_bytes,
             "ping(%d) got pong byteslen %d with %d ignored bytes"
             % (num_pong_bytes, byteslen, len(ignored)))
        return byteslen

    def expect_close(self):
        """Reads until the node closes; the messages that came first. Fails if the node
        keeps the connection open for TIMEOUT."""
        received = []
        while True:
            try:
                received.append(self.recv())
            except Closed:
                return received

    def serve_until_resumed(self):
        """Until the Rust side writes a line on stdin: answer the node's pings and record
        them; any other message is a failure."""
        pings = []
        deadline = time.monotonic() + RUN_LIMIT
        while True:
            need(time.monotonic() < deadline, "not resumed in time")
            ready, _, _ = select.select([sys.stdin, self.stream.sock], [], [], 1.0)
            if sys.stdin in ready:
                need(sys.stdin.readline() != "", "stdin closed at a checkpoint")
                return pings
            if self.stream.sock in ready:
                message = self.recv()
                need(msg_type(message) == T_PING,
                     "unexpected message while serving: %s" % message.hex()[:80])
                num_pong_bytes, ignored_len = struct.unpack(">HH", message[2:6])
                pings.append({"num_pong_bytes": num_pong_bytes, "ignored_len": ignored_len,
                              "len": len(message)})
                self.answer_ping(message)


def checkpoint(name, peer=None, **data):
    """Lets the Rust side look at the node; with `peer`, keeps answering its pings."""
    emit(dict(checkpoint=name, **data))
    if peer is not None:
        return peer.serve_until_resumed()
    ready, _, _ = select.select([sys.stdin], [], [], RUN_LIMIT)
    need(ready and sys.stdin.readline() != "", "not resumed at checkpoint %s" % name)
    return []


def warnings_of(messages):
    """Texts of the warnings among `messages`; every one must be for all channels."""
    texts = []
    for message in messages:
        if msg_type(message) in (T_WARNING, T_ERROR):
            ty, channel_id, text = parse_warning(message)
            need(channel_id == "00" * 32, "warning for channel %s" % channel_id)
            texts.append(("warning: " if ty == T_WARNING else "error: ") + text)
    return texts


def refused(node, misbehave):
    """Connects, lets `misbehave(peer)` break a rule, and waits for the node to close; what
    came back, and our local port (which the node's log names)."""
    peer = Peer(node)
    misbehave(peer)
    messages = peer.expect_close()
    peer.close()
    return {"id": peer.id, "local_port": peer.local_port,
            "warnings": warnings_of(messages), "messages": [m.hex() for m in messages]}


def healthy(node):
    """A correct connection still works: init, then a ping answered."""
    peer = Peer(node)
    peer.exchange_init()
    peer.ping_pong(4)
    peer.close()
    return True


# ---------------------------------------------------------------------------------------
# Cases. Each returns the observations the Rust side asserts on.


def case_odd_feature_bit(node):
    # Unknown odd (optional) bits must be ignored, in features and in globalfeatures (which
    # the receiver ORs into features).
    features = feature_bits([101])
    peer = Peer(node)
    peer.exchange_init(init_msg(features=features))
    first = peer.ping_pong(10)
    checkpoint("connected", id=peer.id, features=features.hex())
    second = peer.ping_pong(1)
    peer.close()
    in_global = Peer(node)
    in_global.exchange_init(init_msg(globalfeatures=features))
    third = in_global.ping_pong(2)
    in_global.close()
    return {"id": peer.id, "pongs": [first, second], "globalfeatures_pong": third}


def case_even_feature_bit(node):
    # Unknown even (required) bits must be refused, whichever bitmap carries them.
    in_features = refused(node, lambda p: p.exchange_init(
        init_msg(features=feature_bits([100]))))
    in_global = refused(node, lambda p: p.exchange_init(
        init_msg(globalfeatures=feature_bits([100]))))
    return {"features": in_features, "globalfeatures": in_global, "healthy": healthy(node)}


def case_unknown_odd_message(node):
    # In the custom range, below it (1001: no BOLT defines it) and the largest type.
    peer = Peer(node)
    peer.exchange_init()
    sent = []
    for ty in (32769, 1001, 65535):
        message = u16(ty) + b"odd" + struct.pack(">H", ty)
        peer.send(message)
        sent.append(message.hex())
    # Nothing may come back for them: the next message must be the ping's pong.
    pong = peer.ping_pong(2)
    checkpoint("sent", id=peer.id, sent=sent)
    again = peer.ping_pong(3)
    peer.close()
    return {"id": peer.id, "sent": sent, "pongs": [pong, again]}


def case_unknown_even_message(node):
    # In the custom range, and below it (1000: no BOLT defines it).
    results = []
    for ty in (32768, 1000):
        message = u16(ty) + b"\x00\x01even"

        def misbehave(p, message=message):
            p.exchange_init()
            p.send(message)

        result = refused(node, misbehave)
        result["sent"] = message.hex()
        results.append(result)
    return {"refused": results, "healthy": healthy(node)}


def case_init_first(node):
    def ping_first(p):
        p.read_node_init()
        p.send(ping_msg(1))

    def even_first(p):
        p.read_node_init()
        p.send(u16(32768) + b"\x00")

    def second_init(p):
        p.exchange_init()
        p.ping_pong(1)
        p.send(init_msg())

    ping = refused(node, ping_first)
    even = refused(node, even_first)
    twice = refused(node, second_init)

    # CLN skips unknown odd messages before init; the init after them is taken.
    peer = Peer(node)
    peer.read_node_init()
    peer.send(u16(32769) + b"early")
    peer.send(init_msg())
    node.wait_connected(peer.id)
    odd_then_init = peer.ping_pong(5)
    peer.close()
    return {"ping_first": ping, "even_first": even, "second_init": twice,
            "odd_then_init_pong": odd_then_init}


def case_ping_sizes(node):
    peer = Peer(node)
    peer.exchange_init()
    # Pings asking for 65532+ bytes must go unanswered: if either were answered, its pong
    # would arrive before the pong for 0 bytes.
    peer.send(ping_msg(65532))
    peer.send(ping_msg(65535, 16))
    peer.send(ping_msg(0))
    byteslen, ignored = parse_pong(peer.recv_app())
    first_pong = {"byteslen": byteslen, "ignored": len(ignored)}
    pongs = []
    # 65531 is the largest pong (a 65535-byte message); a ping carries at most 65529 ignored
    # bytes for the same reason.
    for asked, ignored_len in ((1, 0), (1000, 0), (65531, 0), (3, 500), (0, 65529)):
        peer.send(ping_msg(asked, ignored_len))
        reply = peer.recv_app()
        byteslen, ignored = parse_pong(reply)
        pongs.append({"asked": asked, "ignored_len": ignored_len, "byteslen": byteslen,
                      "ignored": len(ignored), "zeros": ignored == bytes(len(ignored)),
                      "msg_len": len(reply)})
    # The node's own ping (RPC `ping`, issued by the Rust side), answered while waiting.
    node_pings = checkpoint("node_ping", peer=peer, id=peer.id)
    peer.ping_pong(7)
    peer.close()
    return {"first_pong": first_pong, "pongs": pongs, "node_pings": node_pings}


def case_wrong_network(node):
    mainnet_only = refused(node, lambda p: p.exchange_init(
        init_msg(networks=(MAINNET,))))
    # Regtest's genesis hash in display order is not regtest's chain hash.
    display_order = refused(node, lambda p: p.exchange_init(
        init_msg(networks=(REGTEST[::-1],))))
    # A network list sharing any chain with ours, or no networks TLV at all, is fine.
    accepted = {}
    for name, networks in (("mainnet_and_regtest", (MAINNET, REGTEST)), ("absent", None)):
        peer = Peer(node)
        peer.exchange_init(init_msg(networks=networks))
        accepted[name] = peer.ping_pong(6)
        peer.close()
    return {"mainnet_only": mainnet_only, "display_order": display_order, "accepted": accepted}


MALFORMED_INITS = {
    # gflen says 5, 2 bytes follow.
    "truncated_globalfeatures": u16(T_INIT) + u16(5) + b"\x00\x00",
    # flen says 4, 1 byte follows.
    "truncated_features": u16(T_INIT) + u16(0) + u16(4) + b"\x01",
    # No flen at all.
    "missing_features_length": u16(T_INIT) + u16(0),
    # remote_addr (3, an IPv4 descriptor) before networks (1).
    "tlv_out_of_order": u16(T_INIT) + u16(0) + u16(0)
    + tlv(3, b"\x01\x7f\x00\x00\x01\x26\x07") + tlv(1, REGTEST),
    "tlv_duplicate": u16(T_INIT) + u16(0) + u16(0) + tlv(1, REGTEST) + tlv(1, REGTEST),
    # BOLT 1 Appendix C: a TLV type with no length.
    "tlv_truncated": bytes.fromhex("00100000000001"),
    # An unknown even TLV type must fail the stream.
    "tlv_unknown_even": u16(T_INIT) + u16(0) + u16(0) + tlv(1, REGTEST) + tlv(2, b"\x00"),
    # networks is a list of 32-byte hashes.
    "networks_bad_length": u16(T_INIT) + u16(0) + u16(0) + tlv(1, REGTEST[:31]),
    # TLV type 1 written in 3 bytes: BigSize must be minimal.
    "tlv_type_not_minimal": u16(T_INIT) + u16(0) + u16(0) + b"\xfd\x00\x01\x20" + REGTEST,
}


def case_malformed_init(node):
    results = {}
    for name, message in MALFORMED_INITS.items():
        results[name] = refused(
            node, lambda p, m=message: p.exchange_init(m))
    # Control: unknown odd TLVs (BOLT 1 Appendix C's 201 and 203) are fine.
    peer = Peer(node)
    peer.exchange_init(init_msg(extra_tlvs=tlv(201, b"\x2a") + tlv(203, b"\x04")))
    odd_tlvs = peer.ping_pong(8)
    peer.close()
    return {"refused": results, "odd_tlvs_pong": odd_tlvs, "healthy": healthy(node)}


def case_wrong_static_key(node):
    wrong = PrivateKey(os.urandom(32)).public_key().serializeCompressed()
    sock = socket.create_connection(("127.0.0.1", node.port), timeout=TIMEOUT)
    local_port = sock.getsockname()[1]
    conn = LightningConnection(Stream(sock), PublicKey(wrong), PrivateKey(os.urandom(32)),
                               is_initiator=True)
    try:
        conn.shake()
        # pyln-proto does not check act two's tag (it builds a ValueError and drops it), so
        # a shake that "succeeds" must still be refused: the node must not answer.
        conn.send_message(init_msg())
        conn.read_message()
        outcome = "completed"
    except Closed:
        outcome = "closed"
    except (ValueError, OSError) as e:
        outcome = "error: %s" % e
    sock.close()
    return {"outcome": outcome, "local_port": local_port, "healthy": healthy(node)}


def case_byte_at_a_time(node):
    # Message boundaries are not TCP boundaries. First act one and act three, then init and
    # a ping, each written one byte per send.
    peer = Peer(node, dribble=True)
    peer.read_node_init()
    peer.send_raw(peer.encrypt(init_msg()), dribble=True)
    node.wait_connected(peer.id)
    peer.send_raw(peer.encrypt(ping_msg(9, 3)), dribble=True)
    byteslen, ignored = parse_pong(peer.recv_app())
    # Then two pings whose frames are cut across sends at odd places.
    data = peer.encrypt(ping_msg(11)) + peer.encrypt(ping_msg(12))
    for start in range(0, len(data), 7):
        peer.send_raw(data[start:start + 7])
        time.sleep(0.001)
    split = [parse_pong(peer.recv_app())[0], parse_pong(peer.recv_app())[0]]
    # And the opposite: three pings in one write, three pongs in order.
    peer.send_raw(b"".join(peer.encrypt(ping_msg(n)) for n in (21, 22, 23)))
    batch = [parse_pong(peer.recv_app())[0] for _ in range(3)]
    peer.close()
    return {"sends": peer.stream.sends, "pong": byteslen, "pong_ignored": len(ignored),
            "split_pongs": split, "batch_pongs": batch}


def case_coalesced(node):
    # init and a ping in one TCP write: the ping must be answered with no further traffic.
    peer = Peer(node)
    peer.read_node_init()
    peer.send_raw(peer.encrypt(init_msg()) + peer.encrypt(ping_msg(13)))
    try:
        after_init = parse_pong(peer.recv_app(timeout=3.0))[0]
    except Failure as e:
        # Another ping shows whether the first was lost or only held back.
        peer.send(ping_msg(14))
        held = [parse_pong(peer.recv_app())[0]]
        if held[0] == 13:
            held.append(parse_pong(peer.recv_app())[0])
        after_init = {"timeout": str(e), "after_nudge": held}
    peer.close()
    return {"pong_after_init": after_init}


def custom_payload(index, fill):
    """Message `index`'s payload: its index, then 0-299 bytes of `fill` so frames differ."""
    return struct.pack(">I", index) + bytes([fill]) * ((index * 37) % 300)


def case_many_messages(node, count, peer_type, node_type):
    count, peer_type, node_type = int(count), int(peer_type), int(node_type)
    peer = Peer(node)
    peer.exchange_init()
    emit({"event": "connected", "id": peer.id})
    for i in range(count):
        peer.send(u16(peer_type) + custom_payload(i, 0xA5))
    received = 0
    while received < count:
        message = peer.recv_app()
        want = u16(node_type) + custom_payload(received, 0x5A)
        need(message == want, "node message %d: got %s, want %s"
             % (received, message.hex()[:80], want.hex()[:80]))
        received += 1
    # This pong comes after the node has read every message we sent before the ping.
    final_pong = peer.ping_pong(1)
    peer.close()
    return {"id": peer.id, "sent": count, "received": received, "final_pong": final_pong}


CASES = {
    "odd_feature_bit": case_odd_feature_bit,
    "even_feature_bit": case_even_feature_bit,
    "unknown_odd_message": case_unknown_odd_message,
    "unknown_even_message": case_unknown_even_message,
    "init_first": case_init_first,
    "ping_sizes": case_ping_sizes,
    "wrong_network": case_wrong_network,
    "malformed_init": case_malformed_init,
    "wrong_static_key": case_wrong_static_key,
    "byte_at_a_time": case_byte_at_a_time,
    "coalesced": case_coalesced,
    "many_messages": case_many_messages,
}


def on_alarm(signum, frame):
    raise Failure("case did not finish within %d s" % RUN_LIMIT)


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in CASES:
        sys.exit("usage: bolt1_conformance.py <%s> <port> <node_id> <rpc_file> [args...]"
                 % "|".join(CASES))
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(RUN_LIMIT)
    node = Node(*sys.argv[2:5])
    emit({"result": CASES[sys.argv[1]](node, *sys.argv[5:])})


if __name__ == "__main__":
    main()
