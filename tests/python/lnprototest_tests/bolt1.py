"""What the BOLT 1 tests share: the `init` exchange, a ping that must be answered, and checks
of the node's `init` and `warning`s."""

from typing import Any, List

from lnprototest import Connect, Event, EventError, ExpectMsg, Msg
from pyln.proto.message import Message

# Regtest's genesis block hash in the byte order `networks` carries it (BOLT 1: chain hashes
# are sent as the hash itself, not reversed as bitcoind displays it).
REGTEST_CHAIN = bytes.fromhex(
    "06226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f"
)


def set_bits(bitmap: List[int]) -> List[int]:
    """The bits set in a BOLT 9 bitmap (as pyln gives it: a list of byte values, big-endian)."""
    return [
        8 * (len(bitmap) - 1 - index) + bit
        for index, byte in enumerate(bitmap)
        for bit in range(8)
        if byte & (1 << bit)
    ]


def check_node_init(event: Event, msg: Message, runner: Any) -> None:
    """The node's `init` follows BOLT 1 and BOLT 9, and offers what `has_option` reports."""
    globalfeatures = set_bits(msg.fields["globalfeatures"])
    features = set_bits(msg.fields["features"])
    # BOLT 1: the sender "SHOULD NOT set features greater than 13 in `globalfeatures`".
    if any(bit > 13 for bit in globalfeatures):
        raise EventError(event, f"globalfeatures sets a bit above 13: {globalfeatures}")
    # BOLT 9: "MUST NOT set both the optional and mandatory bits".
    offered = sorted(set(globalfeatures) | set(features))
    both = [bit for bit in offered if bit % 2 == 0 and bit + 1 in offered]
    if both:
        raise EventError(event, f"both bits of a pair are set: {both}")
    # BOLT 1: "SHOULD set `networks` to all chains it will gossip or open channels for".
    chains = msg.fields.get("tlvs", {}).get("networks", {}).get("chains", [])
    if REGTEST_CHAIN not in chains:
        raise EventError(event, f"networks does not name regtest: {chains}")
    # The runner answers `has_option` from `getinfo`; it must be what peers see.
    reported = getattr(runner, "node_init_features", None)
    if reported is not None and bytes(msg.fields["features"]) != reported():
        raise EventError(
            event,
            f"init features {bytes(msg.fields['features']).hex()} are not the "
            f"{reported().hex()} the runner reports",
        )


def init_exchange(connprivkey: str = "02", features: str = "") -> List[Event]:
    """Connect as `connprivkey`; the node sends its `init` first, unprompted; send ours."""
    return [
        Connect(connprivkey=connprivkey),
        ExpectMsg("init", if_match=check_node_init),
        Msg("init", globalfeatures="", features=features),
    ]


def ping_answered(num_pong_bytes: int = 3) -> List[Event]:
    """A ping that must get a pong of exactly `num_pong_bytes` zero bytes: the connection is
    up and the node has handled everything sent before it."""
    return [
        Msg("ping", num_pong_bytes=num_pong_bytes, ignored=""),
        ExpectMsg("pong", ignored="00" * num_pong_bytes),
    ]


def warning_text(text: str) -> Any:
    """An `if_match` that wants a `warning` for all channels saying exactly `text`."""

    def check(event: Event, msg: Message, runner: Any) -> None:
        if bytes(msg.fields["channel_id"]) != bytes(32):
            raise EventError(event, f"warning names a channel: {msg.to_str()}")
        said = bytes(msg.fields["data"]).decode("utf-8", errors="replace")
        if said != text:
            raise EventError(event, f"warning says {said!r}, expected {text!r}")

    return check
