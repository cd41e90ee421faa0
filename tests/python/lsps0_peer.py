"""A scripted LSPS0 client (pyln-proto over BOLT 8) against a running lnpeerd's LSPS service.

Usage: lsps0_peer.py <case> <port> <node_id> <rpc_file>

Each case connects one or more peers (fresh random node keys) and sends payloads of custom
message 37913 (bLIP-50) built byte by byte: malformed JSON, batches, NUL bytes, invalid
requests, unknown methods and params, requests over the node's size limit and more pending
requests than it lets one peer have. It collects the node's 37913 replies as text.

Protocol with the Rust side (tests/lsps0_interop.rs), as commando_peer.py's: one JSON object
per stdout line, the last being `{"result": {...}}` with what the case observed (reply texts
keyed by a label); the Rust side makes the assertions. A broken expectation about the
transport itself (the node closed, a message that is neither a ping, a pong nor 37913, a
reply where none was awaited) raises: traceback on stderr, exit status 1. Every read has a
timeout and an alarm bounds the whole run.

The BOLT 8 transport and BOLT 1 helpers are bolt1_conformance.py's.
"""

import signal
import sys
import time

from pyln.client import LightningRpc

from bolt1_conformance import (T_PONG, TIMEOUT, Failure, Node, Peer, emit, init_msg, msg_type,
                               need, parse_init, ping_msg, u16)

# Bound on a whole case; the Rust side has its own, longer backstop.
RUN_LIMIT = 50
# How long "nothing comes back" is watched for. A reply the node wrongly sends later than
# this would go unnoticed (the check cannot fail spuriously, only miss), and the node answers
# within milliseconds.
QUIET = 0.7

LSPS0_MESSAGE = 37913


def request(req_id, method=b"lsps0.list_protocols", params=b"{}"):
    """A request's payload, members in LDK's order; `req_id` is the id token as JSON text."""
    return (b'{"jsonrpc":"2.0","id":' + req_id + b',"method":"' + method + b'","params":'
            + params + b"}")


def text_of(payload):
    """A reply as text for the Rust side: exact if UTF-8, else its hex."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return {"not_utf8_hex": payload.hex()}


class Lsps0Client(Peer):
    """One connection speaking LSPS0 as a client, init exchanged and listed as connected."""

    def __init__(self, node):
        super().__init__(node)
        _, features, _ = parse_init(self.read_node_init())
        self.node_features = features.hex()
        self.send(init_msg())
        node.wait_connected(self.id)
        self.replies = []
        self.pongs = 0

    def request(self, payload):
        self.send(u16(LSPS0_MESSAGE) + payload)

    def pump(self, timeout):
        """Reads one message (answering the node's pings); False if none came in time."""
        message = self.poll(timeout)
        if message is None:
            return False
        ty = msg_type(message)
        if ty == T_PONG:
            self.pongs += 1
            return True
        need(ty == LSPS0_MESSAGE, "unexpected message from the node: %s" % message.hex()[:200])
        self.replies.append(message[2:])
        return True

    def take(self, count, timeout=TIMEOUT):
        """Waits for `count` replies (in all, since the last call) and takes them as texts,
        in arrival order."""
        deadline = time.monotonic() + timeout
        while len(self.replies) < count:
            left = deadline - time.monotonic()
            need(left > 0, "%d of %d replies came within %.0f s: %r"
                 % (len(self.replies), count, timeout, self.replies))
            self.pump(left)
        taken, self.replies = self.replies, []
        return [text_of(reply) for reply in taken]

    def reply(self, timeout=TIMEOUT):
        """The one reply that must come next."""
        replies = self.take(1, timeout)
        need(len(replies) == 1, "%d replies where one was expected: %r"
             % (len(replies), replies))
        return replies[0]

    def ask(self, payload):
        """Sends `payload` and returns the reply to it."""
        self.request(payload)
        return self.reply()

    def quiet(self, seconds=QUIET):
        """Pings, then watches for `seconds` and until the pong came: the replies that came
        meanwhile (there should be none)."""
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
        stray, self.replies = self.replies, []
        return [text_of(reply) for reply in stray]


# ---------------------------------------------------------------------------------------
# Cases. Each returns the observations the Rust side asserts on.

GOOD = request(b'"good"')


def case_errors(node):
    """Every payload the service must refuse, each answered on one connection, then a good
    request. The node is not muted by a client's bad messages: the service keeps no state
    per connection."""
    payloads = {
        # The bLIP's bad message format: -32700, id null.
        "open_brace": b"{",
        "empty_array": b" [ ] ",
        "two_objects": b" { } { }",
        "object_and_a_half": b" { } { ",
        "empty": b"",
        "whitespace": b" \t\r\n",
        "string": b'"lsps0.list_protocols"',
        "not_utf8": request(b'"u8"', params=b'{"x":"\xff"}'),
        "overlong_utf8": request(b'"\xc0\xaf"'),
        "batch": b"[" + request(b'"b1"') + b"," + request(b'"b2"') + b"]",
        "nul_at_end": GOOD + b"\x00",
        "nul_in_string": request(b'"n\x00"'),
        "notification": b'{"jsonrpc":"2.0","method":"lsps0.list_protocols","params":{}}',
        "response": b'{"jsonrpc":"2.0","id":"r","result":{}}',
        "duplicate_id": (b'{"jsonrpc":"2.0","id":"d1","id":"d2",'
                         b'"method":"lsps0.list_protocols","params":{}}'),
        # Invalid requests: -32600, with the id when it is a string.
        "numeric_id": request(b"7"),
        "null_id": request(b"null"),
        "no_jsonrpc": b'{"id":"nv","method":"lsps0.list_protocols","params":{}}',
        "jsonrpc_1": b'{"jsonrpc":"1.0","id":"v1","method":"lsps0.list_protocols","params":{}}',
        "method_not_string": b'{"jsonrpc":"2.0","id":"ms","method":7,"params":{}}',
        "params_array": request(b'"pa"', params=b"[]"),
        "params_null": request(b'"pn"', params=b"null"),
        # Unknown methods: -32601 with the id.
        "unknown_method": request(b'"um"', method=b"lsps5.list_webhooks"),
        "unknown_lsps0_method": request(b'"u0"', method=b"lsps0.nothing"),
        # A known method with params it does not take: -32602, data.unrecognized.
        "extra_params": request(b'"xp"', params=b'{"x":1,"future_feature1_param":[2],"x":3}'),
        # Accepted.
        "no_params": b'{"jsonrpc":"2.0","id":"np","method":"lsps0.list_protocols"}',
        "whitespace_around": b" \t\r\n" + request(b'"ws"') + b" \n",
        "unknown_member": (b'{"jsonrpc":"2.0","id":"um2","method":"lsps0.list_protocols",'
                           b'"params":{},"x-extension":true}'),
    }
    peer = Lsps0Client(node)
    replies = {label: peer.ask(payload) for label, payload in payloads.items()}
    replies["good"] = peer.ask(GOOD)
    stray = peer.quiet()
    rpc = LightningRpc(node.rpc_file)
    listed = rpc.listpeers(peer.id)["peers"]
    result = {
        "peer_id": peer.id,
        "node_features": peer.node_features,
        "replies": replies,
        "stray": stray,
        "still_connected": bool(listed and listed[0].get("connected")),
    }
    peer.close()
    return result


def padded(req_id, size):
    """A list_protocols request of exactly `size` bytes: spaces inside its params object."""
    head = request(req_id, params=b"{")[:-1]  # ends inside params: ...,"params":{
    need(len(head) + 2 <= size, "cannot pad to %d bytes" % size)
    return head + b" " * (size - len(head) - 2) + b"}}"


def wait_held(rpc, count):
    """Waits until the lsps_hold plugin holds `count` calls; returns them."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        held = rpc.call("listheld")["held"]
        if len(held) == count:
            return held
        need(len(held) < count, "the plugin holds %d calls, more than %d" % (len(held), count))
        need(time.monotonic() < deadline,
             "the plugin holds %d calls, not %d, after %.0f s" % (len(held), count, TIMEOUT))
        time.sleep(0.02)


def case_limits(node):
    """Against a node with --lsps-max-request-bytes=300 --lsps-pending-per-peer=2 and the
    lsps_hold plugin: a request of exactly 300 bytes and one of 301; then one peer holding
    its two pending requests and asking a third time, another peer asking meanwhile, the
    calls released, the first peer asking again, and the plugin stopped with a call held."""
    rpc = LightningRpc(node.rpc_file)
    first, second = Lsps0Client(node), Lsps0Client(node)
    results = {"first_id": first.id, "second_id": second.id}
    results["size"] = {
        "at_limit": first.ask(padded(b'"s300"', 300)),
        "over_limit": first.ask(padded(b'"s301"', 301)),
        "over_limit_unreadable": first.ask(b" " * 301),
    }

    def hold(peer, n):
        peer.request(request(b'"h%d"' % n, method=b"lsps99.hold", params=b'{"n":%d}' % n))

    hold(first, 1)
    hold(first, 2)
    results["held_quiet"] = first.quiet()
    hold(first, 3)
    results["third"] = first.reply()
    # The limit is per peer: the second peer's request is passed on.
    hold(second, 4)
    results["held"] = wait_held(rpc, 3)
    results["other_quiet"] = second.quiet()
    # list_protocols is the service's own: never counted, never held.
    results["list_while_full"] = first.ask(GOOD)
    results["released"] = rpc.call("releaseheld")["released"]
    results["first_answers"] = first.take(2)
    results["second_answers"] = second.take(1)
    # Answered requests free their slots.
    hold(first, 5)
    hold(first, 6)
    results["held_again"] = wait_held(rpc, 2)
    results["released_again"] = rpc.call("releaseheld")["released"]
    results["first_answers_again"] = first.take(2)
    results["good"] = first.ask(GOOD)
    # The plugin stops with a call held: the call is answered, and its method is gone.
    hold(first, 7)
    wait_held(rpc, 1)
    rpc.call("plugin", ["stop", "lsps_hold.py"])
    results["owner_stopped"] = first.reply()
    results["method_gone"] = first.ask(
        request(b'"h8"', method=b"lsps99.hold", params=b'{"n":8}'))
    results["list_after_stop"] = first.ask(request(b'"after"'))
    results["stray"] = [first.quiet(), second.quiet()]
    first.close()
    second.close()
    return results


CASES = {
    "errors": case_errors,
    "limits": case_limits,
}


def on_alarm(signum, frame):
    raise Failure("case did not finish within %d s" % RUN_LIMIT)


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in CASES:
        sys.exit("usage: lsps0_peer.py <%s> <port> <node_id> <rpc_file>" % "|".join(CASES))
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(RUN_LIMIT)
    node = Node(*sys.argv[2:5])
    emit({"result": CASES[sys.argv[1]](node)})


if __name__ == "__main__":
    main()
