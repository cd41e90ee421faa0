"""A scripted commando peer (pyln-proto over BOLT 8) against a running lnpeerd.

Usage: commando_peer.py <case> <port> <node_id> <rpc_file>

Each case connects one or more peers (fresh random node keys), sends commando command chunks
built by hand (`u16 type || 8-byte request id || JSON slice`; 0x4c4d continues, 0x4c4f
terminal), and collects what comes back: reply chunks (0x594b continues, 0x594d terminal)
reassembled per request id, pongs, and anything else (a failure). Runes are made through the
node's RPC (`createrune`, via pyln-client), as an operator would.

Protocol with the Rust side (tests/commando_peers.rs): one JSON object per stdout line, the
last being `{"result": {...}}`: what the case observed (reply texts keyed by a label, ids,
the node's own RPC answers to compare with). The Rust side makes the assertions, so a wrong
answer is reported there with its label. A broken expectation about the transport itself
(the node closed, a message that is neither a pong, a ping nor a commando reply, a reply
chunk over 65000 bytes) raises: traceback on stderr, exit status 1. Every read has a timeout
and an alarm bounds the whole run.

The BOLT 8 transport and BOLT 1 helpers are bolt1_conformance.py's.
"""

import signal
import struct
import sys
import time

from pyln.client import LightningRpc

from bolt1_conformance import (T_PONG, TIMEOUT, Failure, Node, Peer, emit, msg_type, need,
                               ping_msg, u16)

# Bound on a whole case; the Rust side has its own, longer backstop.
RUN_LIMIT = 50
# How long "nothing comes back" is watched for. A reply the node wrongly sends later than
# this would go unnoticed (the check cannot fail spuriously, only miss), and the node answers
# within milliseconds.
QUIET = 0.7

CMD_MORE, CMD_LAST, REPLY_MORE, REPLY_LAST = 0x4C4D, 0x4C4F, 0x594B, 0x594D
# What CLN's client puts in one chunk.
CHUNK = 65000
MIB = 1024 * 1024


# ---------------------------------------------------------------------------------------
# Commando messages.


def rid(n):
    """Request id number `n` as the 8 bytes on the wire (CLN reads them as a BE u64)."""
    return struct.pack(">Q", n)


def chunk(kind, req_id, data=b""):
    return u16(kind) + req_id + data


def cut(data, offsets):
    """`data` cut at `offsets` (sorted; a repeated offset makes an empty piece)."""
    pieces, start = [], 0
    for offset in list(offsets) + [len(data)]:
        pieces.append(data[start:offset])
        start = offset
    return pieces


def every(data, size):
    """Offsets cutting `data` into pieces of `size` bytes (CLN's client uses 65000)."""
    return range(size, len(data), size)


def request_json(method, req_json_id, rune, params=b"{}", extra=b""):
    """A request's JSON text, members in CLN's client order; `req_json_id` is the id token
    as JSON text (b'"x"', b'42')."""
    return (b'{"method":"' + method + b'","id":' + req_json_id + b',"params":' + params
            + b',"rune":"' + rune.encode() + b'"' + extra + b"}")


def text_of(data):
    """A reply as text for the Rust side: exact if UTF-8, else its hex."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"not_utf8_hex": data.hex()}


class Commando(Peer):
    """One connection speaking commando, init exchanged and listed as connected."""

    def __init__(self, node):
        super().__init__(node)
        self.exchange_init()
        node.wait_connected(self.id)
        # Reply chunks not yet terminated, by request id; complete replies in arrival order.
        self.partial = {}
        self.complete = []
        self.pongs = 0

    def send_request(self, req_id, data, offsets=()):
        """`data` as continues chunks cut at `offsets`, the last piece as the terminal."""
        pieces = cut(data, offsets)
        for piece in pieces[:-1]:
            self.send(chunk(CMD_MORE, req_id, piece))
        self.send(chunk(CMD_LAST, req_id, pieces[-1]))

    def pump(self, timeout):
        """Reads one message (answering the node's pings); False if none came in time."""
        message = self.poll(timeout)
        if message is None:
            return False
        ty = msg_type(message)
        if ty == T_PONG:
            self.pongs += 1
            return True
        need(ty in (REPLY_MORE, REPLY_LAST) and len(message) >= 10,
             "unexpected message from the node: %s" % message.hex()[:200])
        req_id, data = message[2:10], message[10:]
        need(len(data) <= CHUNK, "reply chunk of %d bytes (over 65000)" % len(data))
        self.partial.setdefault(req_id, bytearray()).extend(data)
        if ty == REPLY_LAST:
            self.complete.append((req_id, bytes(self.partial.pop(req_id))))
        return True

    def replies(self, count, timeout=10.0):
        """Waits for `count` complete replies (in all, since the last call) and takes them:
        a list of (request id, JSON bytes)."""
        deadline = time.monotonic() + timeout
        while len(self.complete) < count:
            left = deadline - time.monotonic()
            need(left > 0, "%d of %d replies came within %.0f s: %r"
                 % (len(self.complete), count, timeout, self.complete))
            self.pump(left)
        taken, self.complete = self.complete, []
        return taken

    def reply(self, req_id, timeout=10.0):
        """The one reply that must come next, for `req_id`, as text."""
        replies = self.replies(1, timeout)
        need(len(replies) == 1, "%d replies where one was expected: %r"
             % (len(replies), [(i.hex(), d[:200]) for i, d in replies]))
        got_id, data = replies[0]
        need(got_id == req_id, "reply for id %s, expected %s: %r"
             % (got_id.hex(), req_id.hex(), data[:200]))
        return text_of(data)

    def quiet(self, seconds=QUIET):
        """Pings, then watches for `seconds` and until the pong came: every commando reply
        (or partial reply) that came meanwhile, as {id hex: text}."""
        pongs = self.pongs
        self.send(ping_msg(4))
        started = time.monotonic()
        while True:
            now = time.monotonic()
            if self.pongs > pongs and now >= started + seconds:
                break
            need(now < started + TIMEOUT, "the ping sent by quiet() was not answered")
            left = started + (seconds if self.pongs > pongs else TIMEOUT) - now
            self.pump(max(left, 0.01))
        stray = {i.hex(): text_of(d) for i, d in self.complete}
        stray.update({i.hex() + " (partial)": text_of(bytes(d)) for i, d in self.partial.items()})
        self.complete, self.partial = [], {}
        return stray

    def ping_ok(self):
        """A ping gets its pong (the connection is up and read)."""
        pongs = self.pongs
        self.send(ping_msg(2))
        deadline = time.monotonic() + 10
        while self.pongs == pongs:
            need(time.monotonic() < deadline, "ping not answered")
            self.pump(deadline - time.monotonic())
        return True


class Runes:
    """Runes made through the node's RPC."""

    def __init__(self, node):
        self.rpc = LightningRpc(node.rpc_file)

    def create(self, restrictions=None):
        params = {} if restrictions is None else {"restrictions": restrictions}
        return self.rpc.call("createrune", params)["rune"]

    def unique_id(self, rune):
        return self.rpc.call("showrunes", {"rune": rune})["runes"][0]["unique_id"]


def tamper(rune):
    """The rune with one character of its authcode changed."""
    swapped = "B" if rune[5] == "A" else "A"
    return rune[:5] + swapped + rune[6:]


# ---------------------------------------------------------------------------------------
# Cases. Each returns the observations the Rust side asserts on.


def case_single_chunk(node):
    """getinfo in one terminal chunk, with a string id and with numeric ids."""
    runes = Runes(node)
    rune = runes.create()
    peer = Commando(node)
    ids = [b'"lnmessage:getinfo#0102030405060708"', b"42", b"1.50", b"-7e2"]
    replies = []
    for n, json_id in enumerate(ids):
        req_id = rid(0x0102030405060708 + n)
        peer.send_request(req_id, request_json(b"getinfo", json_id, rune, params=b"[]"))
        replies.append({"id_token": json_id.decode(), "reply": peer.reply(req_id)})
    stray = peer.quiet()
    getinfo = runes.rpc.getinfo()
    peer.close()
    return {"replies": replies, "stray": stray, "rpc_getinfo": getinfo}


def case_multi_chunk(node):
    """One request in many chunks, cut inside UTF-8 characters, inside escapes and inside
    the rune, with empty chunks; then the same request one byte per chunk."""
    rune = Runes(node).create()
    peer = Commando(node)
    # The id token, JSON text: an escape (\u00e9), 2-, 3- and 4-byte UTF-8 characters, an
    # escaped quote and an escaped backslash. It must come back byte for byte.
    id_token = ('"chunk:caf\\u00e9/\u00e9/\u2615/\U0001f980/\\"q\\"/\\\\"').encode()
    data = request_json(b"getinfo", id_token, rune)
    offsets = []
    for needle, inside in ((b"\\u00e9", 3), (b"\xc3\xa9", 1), (b"\xe2\x98\x95", 2),
                           (b"\xf0\x9f\xa6\x80", 1), (b"\xf0\x9f\xa6\x80", 3),
                           (b'\\"q', 1), (rune.encode(), 17)):
        offsets.append(data.index(needle) + inside)
    offsets = sorted(offsets + [offsets[2]])  # a repeated offset: an empty continues chunk
    offsets.append(len(data) - 1)  # the terminal chunk is the closing brace alone
    cuts = cut(data, offsets)
    results = {"id_token": id_token.decode(), "chunks": [len(c) for c in cuts]}
    req_id = rid(0xC0FFEE)
    peer.send_request(req_id, data, offsets)
    results["cut_reply"] = peer.reply(req_id)
    # One byte per continues chunk, then an empty terminal chunk.
    req_id = rid(0xC0FFEF)
    peer.send_request(req_id, data, list(range(1, len(data) + 1)))
    results["request_bytes"] = len(data)
    results["bytewise_chunks"] = len(data) + 1
    results["bytewise_reply"] = peer.reply(req_id)
    results["stray"] = peer.quiet()
    results["rpc_getinfo"] = Runes(node).rpc.getinfo()
    peer.close()
    return results


def case_validation(node):
    """Every refusal before the command runs, in one chunk each, and two commands that run
    and fail or succeed in ways worth pinning."""
    runes = Runes(node)
    rune = runes.create()
    getinfo_only = runes.create([["method=getinfo"]])
    quoted = runes.create([['method=say"hi']])
    blacklisted = runes.create()
    blacklisted_id = int(runes.unique_id(blacklisted))
    runes.rpc.call("blacklistrune", {"start": blacklisted_id, "end": blacklisted_id})
    r = rune.encode()
    requests = {
        "invalid_json": b'{"method":"getinfo","id":1,"rune":"' + r + b'"',
        "empty": b"",
        "trailing_garbage": b'{"method":"getinfo","id":1,"rune":"' + r + b'"} x',
        "invalid_utf8": b'{"method":"getinfo","id":1,"rune":"\xff"}',
        "array": b'[{"method":"getinfo","id":1,"rune":"' + r + b'"}]',
        "string": b'"getinfo"',
        "no_method": b'{"id":1,"params":{},"rune":"' + r + b'"}',
        "method_not_string": b'{"method":7,"id":1,"params":{},"rune":"' + r + b'"}',
        "params_string": request_json(b"getinfo", b"1", rune, params=b'"{}"'),
        "params_null": request_json(b"getinfo", b"1", rune, params=b"null"),
        "no_id": b'{"method":"getinfo","params":{},"rune":"' + r + b'"}',
        "no_rune": b'{"method":"getinfo","id":1,"params":{}}',
        "rune_not_string": b'{"method":"getinfo","id":1,"params":{},"rune":7}',
        "rune_not_base64": request_json(b"getinfo", b"1", "not base64!"),
        "rune_too_short": request_json(b"getinfo", b"1", "AAAA"),
        # Runes that decode but have no unique id: an authcode alone, and an authcode with a
        # restriction (32 zero bytes, then "method=getinfo").
        "rune_without_id": request_json(b"getinfo", b"1", "A" * 43 + "="),
        "rune_restricted_without_id": request_json(
            b"getinfo", b"1", "A" * 42 + "BtZXRob2Q9Z2V0aW5mbw=="),
        "rune_tampered": request_json(b"getinfo", b"1", tamper(rune)),
        "rune_for_other_method": request_json(b"listpeers", b"1", getinfo_only),
        "rune_with_quote": request_json(b"getinfo", b"1", quoted),
        "rune_blacklisted": request_json(b"getinfo", b"1", blacklisted),
        "unknown_method": request_json(b"nosuchmethod", b'"u"', rune),
        "escaped_method": request_json(b"get\\u0069nfo", b'"e"', getinfo_only,
                                       extra=b',"filter":{"id":true}'),
    }
    peer = Commando(node)
    replies = {}
    for n, (label, data) in enumerate(requests.items()):
        req_id = rid(0x5600 + n)
        peer.send_request(req_id, data)
        replies[label] = peer.reply(req_id)
    stray = peer.quiet()
    peer.close()
    return {"replies": replies, "stray": stray}


def case_oversize(node):
    """Chunks totalling one byte over 1 MiB, then exactly 1 MiB with the same request id,
    then just under."""
    rune = Runes(node).create()
    peer = Commando(node)
    head = request_json(b"getinfo", b'"mib"', rune)[:-1]

    def padded(size):
        # Whitespace before the closing brace: valid JSON of exactly `size` bytes.
        data = head + b" " * (size - len(head) - 1) + b"}"
        assert len(data) == size
        return data

    results = {}
    req_id = rid(0x100000)
    for label, size in (("over", MIB + 1), ("exact", MIB), ("under", MIB - 1)):
        data = padded(size)
        offsets = list(every(data, CHUNK))
        peer.send_request(req_id, data, offsets)
        results[label] = {"size": size, "chunks": len(offsets) + 1, "reply": peer.reply(req_id)}
    results["stray"] = peer.quiet()
    results["rpc_getinfo"] = Runes(node).rpc.getinfo()
    peer.close()
    return results


def case_interleaved_ids(node):
    """One peer interleaving the chunks of two request ids: each new id replaces the pending
    request (CLN's rule), so the replaced one's earlier chunks are gone."""
    rune = Runes(node).create()
    peer = Commando(node)
    a_id, b_id = rid(0xA), rid(0xB)
    a = cut(request_json(b"getinfo", b'"a"', rune), [10, 25])
    b = cut(request_json(b"getinfo", b'"b"', rune), [12, 30])
    results = {"a_pieces": [p.decode() for p in a], "b_pieces": [p.decode() for p in b]}

    # A1 B1 A2 A3(terminal) B2 B3(terminal).
    peer.send(chunk(CMD_MORE, a_id, a[0]))
    peer.send(chunk(CMD_MORE, b_id, b[0]))
    peer.send(chunk(CMD_MORE, a_id, a[1]))
    peer.send(chunk(CMD_LAST, a_id, a[2]))
    first = peer.reply(a_id)
    peer.send(chunk(CMD_MORE, b_id, b[1]))
    peer.send(chunk(CMD_LAST, b_id, b[2]))
    results["alternating"] = {"a": first, "b": peer.reply(b_id)}

    # A1 A2 B1 B2 B3(terminal) A3(terminal): B, started last, is whole.
    peer.send(chunk(CMD_MORE, a_id, a[0]))
    peer.send(chunk(CMD_MORE, a_id, a[1]))
    peer.send(chunk(CMD_MORE, b_id, b[0]))
    peer.send(chunk(CMD_MORE, b_id, b[1]))
    peer.send(chunk(CMD_LAST, b_id, b[2]))
    first = peer.reply(b_id)
    peer.send(chunk(CMD_LAST, a_id, a[2]))
    results["b_inside_a"] = {"b": first, "a": peer.reply(a_id)}
    results["stray"] = peer.quiet()
    results["rpc_getinfo"] = Runes(node).rpc.getinfo()
    peer.close()
    return results


def case_unfinished(node):
    """Continues chunks and no terminal: no reply. A fresh request afterwards works."""
    rune = Runes(node).create()
    peer = Commando(node)
    data = request_json(b"getinfo", b'"never"', rune)
    old_id = rid(0xDEAD)
    for piece in cut(data, [20, 40])[:-1]:
        peer.send(chunk(CMD_MORE, old_id, piece))
    results = {"after_continues": peer.quiet()}
    fresh_id = rid(0xF00D)
    peer.send_request(fresh_id, request_json(b"getinfo", b'"fresh"', rune), [7])
    results["fresh"] = peer.reply(fresh_id)
    results["after_fresh"] = peer.quiet()
    results["rpc_getinfo"] = Runes(node).rpc.getinfo()
    peer.close()
    return results


def case_two_peers_same_id(node):
    """Two connections (two node keys) interleave the chunks of requests with the same
    request id. Each rune only allows its own peer (`id=`), each asks listpeers for itself."""
    runes = Runes(node)
    peers = [Commando(node), Commando(node)]
    req_id = rid(7)
    requests, pieces = [], []
    for n, peer in enumerate(peers):
        rune = runes.create([["id=" + peer.id]])
        data = request_json(b"listpeers", ('"peer-%d"' % n).encode(), rune,
                            params=('{"id":"%s"}' % peer.id).encode())
        requests.append(data)
        # Different cut points, so a mix-up could not add up to a valid request.
        pieces.append(cut(data, [9 + 5 * n, 60 + 7 * n, 130 + 11 * n]))
    for i in range(4):
        for n, peer in enumerate(peers):
            kind = CMD_LAST if i == 3 else CMD_MORE
            peer.send(chunk(kind, req_id, pieces[n][i]))
            # Two connections are read independently: a pause makes the node see the chunks
            # in this interleaved order (the check does not depend on it).
            time.sleep(0.01)
    results = {"ids": [p.id for p in peers], "replies": [], "stray": [], "rpc_listpeers": []}
    for peer in peers:
        results["replies"].append(peer.reply(req_id))
    for peer in peers:
        results["stray"].append(peer.quiet())
        results["rpc_listpeers"].append(runes.rpc.listpeers(peer.id))
    for peer in peers:
        peer.close()
    return results


def case_rate_limit(node):
    """A peer floods getinfo calls (one terminal chunk each, back to back) past its call
    limit; a second peer calls meanwhile. Run against a node with --commando-burst=3
    --commando-calls-per-second=1."""
    rune = Runes(node).create()
    flooder, other = Commando(node), Commando(node)
    count = 8
    started = time.monotonic()
    for n in range(count):
        flooder.send_request(rid(n), request_json(b"getinfo", b"%d" % n, rune))
    # Refused requests count too, and the limit comes before any parsing.
    flooder.send_request(rid(count), b"{")
    sent_in = time.monotonic() - started
    other_id = rid(0)  # the same request id as the flooder's first: ids are per peer
    other.send_request(other_id, request_json(b"getinfo", b'"other"', rune))
    other_reply = other.reply(other_id)
    flood = sorted(flooder.replies(count + 1), key=lambda r: r[0])
    results = {
        "sent_in_seconds": sent_in,
        "flood": [{"n": struct.unpack(">Q", i)[0], "reply": text_of(d)} for i, d in flood],
        "other": other_reply,
        "stray": [flooder.quiet(), other.quiet()],
        "rpc_getinfo": Runes(node).rpc.getinfo(),
    }
    flooder.close()
    other.close()
    return results


def case_ignored(node):
    """Things a commando server must shrug off: chunks shorter than the 10-byte header,
    unknown odd custom types (some next to commando's), reply chunks sent to the server,
    and garbage after a request's terminal chunk. None gets a reply, the connection stays
    up, and a request afterwards works."""
    rune = Runes(node).create()
    peer = Commando(node)
    done_id = rid(0x60)
    peer.send_request(done_id, request_json(b"getinfo", b'"before"', rune))
    results = {"before": peer.reply(done_id)}

    sent = []

    def send(message):
        peer.send(message)
        sent.append(message.hex())

    # Shorter than type + request id: 2 to 9 bytes, both command types and a reply type.
    for kind in (CMD_LAST, CMD_MORE, REPLY_LAST):
        for extra in range(0, 8):
            send(u16(kind) + b"\x01" * extra)
    # Unknown odd types, around commando's and in the custom range.
    for ty in (0x4C4B, 0x4C51, 0x594F, 0x5949, 0x8001, 0xFFFF):
        send(u16(ty) + rid(1) + b'{"method":"getinfo"}')
    # Reply chunks to the server, for ids it never asked about.
    send(chunk(REPLY_MORE, rid(0x61), b'{"result":'))
    send(chunk(REPLY_LAST, rid(0x62), b'{"result":{}}'))
    # Garbage after the terminal chunk of the finished request: a continues chunk for its
    # id with bytes that are not JSON (nor UTF-8), which never gets a terminal.
    send(chunk(CMD_MORE, done_id, b"\xff\xfe garbage \x00\x01"))
    results["sent"] = sent
    results["after_garbage"] = peer.quiet()
    # The smallest chunk that counts: a terminal of exactly 10 bytes, an empty request. It
    # replaces the pending garbage (another id), so it stands alone.
    empty_id = rid(0x63)
    peer.send(chunk(CMD_LAST, empty_id))
    results["ten_bytes"] = peer.reply(empty_id)
    after_id = rid(0x64)
    peer.send_request(after_id, request_json(b"getinfo", b'"after"', rune))
    results["after"] = peer.reply(after_id)
    results["stray"] = peer.quiet()
    results["ping"] = peer.ping_ok()
    rpc = Runes(node).rpc
    results["rpc_getinfo"] = rpc.getinfo()
    listed = rpc.listpeers(peer.id)["peers"]
    results["still_connected"] = bool(listed and listed[0].get("connected"))
    peer.close()
    return results


CASES = {
    "single_chunk": case_single_chunk,
    "multi_chunk": case_multi_chunk,
    "validation": case_validation,
    "oversize": case_oversize,
    "interleaved_ids": case_interleaved_ids,
    "unfinished": case_unfinished,
    "two_peers_same_id": case_two_peers_same_id,
    "rate_limit": case_rate_limit,
    "ignored": case_ignored,
}


def on_alarm(signum, frame):
    raise Failure("case did not finish within %d s" % RUN_LIMIT)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in CASES:
        sys.exit("usage: commando_peer.py <%s> <port> <node_id> <rpc_file>" % "|".join(CASES))
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(RUN_LIMIT)
    node = Node(*sys.argv[2:5])
    emit({"result": CASES[sys.argv[1]](node)})


if __name__ == "__main__":
    main()
