"""Every lnpeerd command through pyln-client's LightningRpc, as a CLN user would call them.

Usage: rpc_suite.py <setup.json>, where setup.json names the nodes (see tests/pyln_client.rs):
  l1: rpc path (developer), l2: id/port/rpc (connected to nothing yet), l3_id: a peer l1 knows
  (it has a channel with it) but that is not running, plain: rpc path of a node without
  --developer.
Prints one line per check; exits non-zero at the first failure.
"""
import json
import sys
import time

from pyln.client import LightningRpc, RpcError

setup = json.load(open(sys.argv[1]))
l1 = LightningRpc(setup["l1_rpc"])
l2 = LightningRpc(setup["l2_rpc"])
plain = LightningRpc(setup["plain_rpc"])
l2_id, l2_port, l3_id = setup["l2_id"], setup["l2_port"], setup["l3_id"]
# A valid key (the generator point) that no node here has.
UNKNOWN_ID = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


def ok(what):
    print("ok", what, flush=True)


def expect_error(call, code, message, what):
    try:
        result = call()
    except RpcError as e:
        got = (e.error.get("code"), e.error.get("message"))
        assert got == (code, message), f"{what}: expected {(code, message)!r}, got {got!r}"
        ok(what)
        return
    raise AssertionError(f"{what}: expected an error, got {result!r}")


def wait_for(condition, what):
    deadline = time.time() + 30
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# getinfo: every field a CLN client reads.
info = l1.getinfo()
for field in ["id", "alias", "color", "num_peers", "num_pending_channels",
              "num_active_channels", "num_inactive_channels", "address", "binding",
              "version", "blockheight", "network", "fees_collected_msat", "lightning-dir",
              "our_features"]:
    assert field in info, f"getinfo lacks {field}: {info}"
assert info["network"] == "regtest"
assert info["binding"][0]["type"] == "ipv4" and info["binding"][0]["address"] == "127.0.0.1"
assert set(info["our_features"]) == {"init", "node", "channel", "invoice"}
assert len(info["color"]) == 6 and len(info["id"]) == 66
ok("getinfo")

# help
commands = [entry["command"] for entry in l1.help()["help"]]
assert "sendcustommsg node_id msg [delivery] [timeout] [ttl]" in commands, commands
assert any(c.startswith("dev-open-channel") for c in commands)
assert l1.help("ping")["help"] == [{"command": "ping id [len] [pongbytes]"}]
plain_commands = [entry["command"] for entry in plain.help()["help"]]
assert not any(c.startswith("dev-") for c in plain_commands), plain_commands
expect_error(lambda: l1.help("nosuch"), -32601, "Unknown command nosuch", "help unknown")
expect_error(lambda: plain.help("dev-open-channel"), -32601,
             "Developer-only command dev-open-channel", "help developer-only")
ok("help")

# connect: its argument forms and errors.
result = l1.connect(l2_id, "127.0.0.1", l2_port)
assert result["id"] == l2_id and result["direction"] == "out", result
assert result["address"] == {"type": "ipv4", "address": "127.0.0.1", "port": l2_port}, result
assert isinstance(result["features"], str)
again = l1.connect(f"{l2_id}@127.0.0.1:{l2_port}")
assert again["direction"] == "out"
wait_for(lambda: l2.listpeers(info["id"])["peers"], "l2 to see l1")
seen_by_l2 = l2.connect(info["id"])
assert seen_by_l2["direction"] == "in", seen_by_l2
expect_error(lambda: l1.connect(f"{l2_id}@127.0.0.1", "127.0.0.1"), -32602,
             "Can't specify host as both xxx@yyy and separate argument", "connect host twice")
expect_error(lambda: l1.connect(f"{l2_id}@127.0.0.1:{l2_port}", None, l2_port), -32602,
             "Can't specify port as both xxx@yyy:port and separate argument", "connect port twice")
expect_error(lambda: l1.connect(l2_id, None, 1234), -32602, "Can't specify port without host",
             "connect port without host")
expect_error(lambda: l1.connect(UNKNOWN_ID), 400,
             "Unable to connect, no address known for peer", "connect without address")
try:
    l1.connect(UNKNOWN_ID, "127.0.0.1", setup["closed_port"])
    raise AssertionError("connect to a closed port succeeded")
except RpcError as e:
    assert e.error["code"] == 401, e.error
    assert e.error["message"].startswith("All addresses failed: "), e.error
ok("connect")

# listpeers
peers = l1.listpeers()["peers"]
by_id = {peer["id"]: peer for peer in peers}
assert by_id[l2_id]["connected"] is True
assert by_id[l2_id]["netaddr"] == [f"127.0.0.1:{l2_port}"]
assert by_id[l2_id]["num_channels"] == 0
assert by_id[l3_id]["connected"] is False and by_id[l3_id]["num_channels"] == 1
assert "netaddr" not in by_id[l3_id]
one = l1.listpeers(l2_id)["peers"]
assert len(one) == 1 and one[0]["id"] == l2_id
assert l1.listpeers(UNKNOWN_ID)["peers"] == []
logged = l1.listpeers(l2_id, "io")["peers"][0]["log"]
assert any(entry["type"] == "IO_OUT" and entry["data"].startswith("0010") for entry in logged), logged
assert all(set(entry) >= {"type", "time", "node_id", "source", "log"} for entry in logged)
info_only = l1.listpeers(l2_id, "info")["peers"][0]["log"]
assert all(entry["type"] in ("INFO", "UNUSUAL", "BROKEN") for entry in info_only), info_only
ok("listpeers")

# ping
assert l1.ping(l2_id) == {"totlen": 132}
assert l1.ping(l2_id, 10, 0) == {"totlen": 4}
assert l1.ping(l2_id, 10, 65532) == {"totlen": 0}
expect_error(lambda: l1.ping(l2_id, 65530), -32602, "65530 would result in oversize ping",
             "ping oversize")
expect_error(lambda: l1.ping(l2_id, 10, 65536), -32602, "pongbytes 65536 > 65535",
             "ping pongbytes")
expect_error(lambda: l1.ping(UNKNOWN_ID), -1, "Peer not connected", "ping unknown peer")
ok("ping")

# sendcustommsg: every refusal, in CLN's order, then success.
def send(node_id, msg):
    return l1.call("sendcustommsg", {"node_id": node_id, "msg": msg})


expect_error(lambda: send("nodeid", "77770012"), -32602,
             "node_id: should be a node id: invalid token '\"nodeid\"'", "bad node id")
expect_error(lambda: send(l2_id, "zz77"), -32602,
             "msg: should be a hex value: invalid token '\"zz77\"'", "bad hex")
expect_error(lambda: send(l2_id, "777"), -32602,
             "msg: should be a hex value with an even number of digits: invalid token '\"777\"'",
             "odd hex")
expect_error(lambda: send(l2_id, "77"), -32602,
             "msg: should be at least 2 bytes, the message type: invalid token '\"77\"'",
             "one byte")
expect_error(lambda: send(l2_id, "77" * 65536), -32602,
             "msg: should be at most 65535 bytes (type and payload), got 131072 hex digits",
             "too long")
internal = ("Cannot send messages of type 18 (WIRE_PING). It is not possible to send messages "
            "that have a type managed internally since that might cause issues with the "
            "internal state tracking.")
expect_error(lambda: send(l2_id, "0012"), -32600, internal, "internal type")
# Type checks come before the peer lookup, as in CLN.
expect_error(lambda: send(UNKNOWN_ID, "0012"), -32600, internal, "internal type before peer")
even = ("Cannot send even-typed 43690 custom message. Currently custom messages are limited "
        "to odd-numbered message types, as even-numbered types might result in "
        "disconnections.")
expect_error(lambda: send(l2_id, "aaaa"), -32600, even, "even type")
expect_error(lambda: send(UNKNOWN_ID, "77770012"), -32600, f"No such peer: {UNKNOWN_ID}",
             "no such peer")
expect_error(lambda: send(l3_id, "77770012"), -32600, f"Peer is not connected: {l3_id}",
             "not connected")
assert send(l2_id, "77770012") == {"status": "Message sent to subdaemon openingd for delivery"}
assert l1.call("sendcustommsg", [l2_id, "77770013"])["status"].endswith("openingd for delivery")
# Peer storage types are left to plugins, so they may be sent.
assert send(l2_id, "0007beef")["status"].endswith("for delivery")
assert l1.call("dev-sendcustommsg", [l2_id, "77770015"])["status"].endswith("for delivery")
expect_error(lambda: plain.call("dev-sendcustommsg", [l2_id, "77770015"]), -32601,
             "Command dev-sendcustommsg is developer-only", "dev-sendcustommsg without developer")
ok("sendcustommsg openingd")

# check: the same validation, nothing sent.
assert l1.check("sendcustommsg", node_id=l2_id, msg="7777aaaa") == {"command_to_check": "sendcustommsg"}
expect_error(lambda: l1.check("sendcustommsg", node_id=UNKNOWN_ID, msg="7777aaaa"), -32600,
             f"No such peer: {UNKNOWN_ID}", "check no such peer")
assert l1.check("getinfo") == {"command_to_check": "getinfo"}
expect_error(lambda: l1.check("nosuch"), -32601, "Unknown command 'nosuch'", "check unknown")
ok("check")

# The channel lifecycle through the dev- commands, and the owner gate at each step.
expect_error(lambda: plain.call("dev-open-channel", [l2_id]), -32601,
             "Command dev-open-channel is developer-only", "dev command without developer")
opened = l1.call("dev-open-channel", [l2_id])
assert opened["state"] == "CHANNELD_NORMAL" and opened["owner"] == "channeld", opened
channel_id = opened["channel_id"]
channels = l1.listpeerchannels(l2_id)["channels"]
assert len(channels) == 1, channels
assert channels[0]["peer_id"] == l2_id and channels[0]["peer_connected"] is True
assert channels[0]["state"] == "CHANNELD_NORMAL" and channels[0]["owner"] == "channeld"
assert channels[0]["channel_id"] == channel_id and channels[0]["opener"] == "local"
assert l1.listpeerchannels(channel_id=channel_id)["channels"] == channels
assert send(l2_id, "77770017") == {"status": "Message sent to subdaemon channeld for delivery"}
assert l1.getinfo()["num_active_channels"] == 2
expect_error(lambda: l1.disconnect(l2_id), -1,
             "Peer has (at least one) channel in state CHANNELD_NORMAL", "disconnect with channel")

closing = l1.call("dev-close-channel", {"id": l2_id})
assert closing == {"channel_id": channel_id, "state": "CLOSINGD_SIGEXCHANGE", "owner": "closingd"}
expect_error(lambda: send(l2_id, "77770019"), -32600,
             "Peer is currently owned by closingd which does not support injecting custom messages.",
             "closingd")
spent = l1.call("dev-spend-funding", [l2_id, channel_id])
assert spent["state"] == "FUNDING_SPEND_SEEN" and spent["owner"] == "onchaind"
expect_error(lambda: send(l2_id, "77770019"), -32600,
             "Peer is currently owned by onchaind which does not support injecting custom messages.",
             "onchaind")
assert l1.listpeerchannels(l2_id)["channels"][0]["owner"] == "onchaind"
assert l1.getinfo()["num_inactive_channels"] == 1
forgotten = l1.call("dev-forget-channel", [l2_id])
assert forgotten == {"channel_id": channel_id, "forgotten": True}, forgotten
assert l1.listpeerchannels(l2_id)["channels"] == []
assert send(l2_id, "7777001b")["status"].endswith("openingd for delivery")
expect_error(lambda: l1.call("dev-close-channel", [l2_id]), -1, f"No channel with peer {l2_id}",
             "no channel to close")
ok("lifecycle")

# notifications, filter
assert l1.call("notifications", {"enable": True}) == {}
filtered = l1.call("listpeers", {"id": l2_id}, filter={"peers": {"id": True}})
assert filtered == {"peers": [{"id": l2_id}]}, filtered
ok("notifications and filter")

# Generic request errors, as pyln-client reports them.
expect_error(lambda: l1.call("nosuch"), -32601, "Unknown command 'nosuch'", "unknown command")
expect_error(lambda: l1.call("ping", [l2_id, 1, 2, 3]), -32602,
             "too many parameters: got 4, expected 3", "too many parameters")
expect_error(lambda: l1.call("ping", {}), -32602, "missing required parameter: id",
             "missing parameter")
try:
    l1.call("ping", {"idd": l2_id})
    raise AssertionError("unknown parameter accepted")
except RpcError as e:
    assert e.error["code"] == -32602
    assert e.error["message"].startswith("unknown parameter: idd, this may be caused"), e.error
ok("request errors")

# disconnect: a channel-less peer is forgotten once gone.
expect_error(lambda: l1.disconnect(UNKNOWN_ID), -32602, f"Unknown peer '{UNKNOWN_ID}'",
             "disconnect unknown")
expect_error(lambda: l1.disconnect(l3_id), -1, "Peer not connected", "disconnect not connected")
assert l1.disconnect(l2_id) == {}
assert l1.listpeers(l2_id)["peers"] == []
expect_error(lambda: send(l2_id, "77770021"), -32600, f"No such peer: {l2_id}",
             "no such peer after disconnect")
ok("disconnect")

# stop
assert l1.stop() == {"result": "Shutdown complete"}
ok("stop")
print("ALL OK")
