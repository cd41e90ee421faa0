"""lnprototest's `Runner` for lnpeerd.

lnprototest plays the other node: its events connect over BOLT 8, send messages, and check what
lnpeerd answers. This class is the adapter it drives: it starts lnpeerd (fresh for every pass of
a test), opens connections to it with pyln-proto, moves messages both ways, and says which
features lnpeerd offers. lnpeerd is a transport node with no chain, wallet or channels, so the
runner methods about those raise `NoChainError` with a sentence saying so.

Two choices differ from lnprototest's Core Lightning runner:

* `ExpectDisconnect` takes a `warning` followed by the close as a disconnect. BOLT 1 lets the
  sender of a `warning` close the connection after it, and lnpeerd, like Core Lightning, sends
  one before closing on an unknown even feature or message (lnprototest issue #135). Any other
  message, or no close within `TIMEOUT` seconds, fails the event.
* The final check of every connection (lnprototest's trick: 18 zero bytes, a length header
  whose MAC cannot verify, after everything the test sent) also requires the node to close
  the connection, as BOLT 8 says it must; Core Lightning's runner lets a timeout pass.
"""

import os
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple

import coincurve
import lnprototest
from lnprototest import (
    Conn,
    Event,
    EventError,
    ExpectDisconnect,
    KeySet,
    MustNotMsg,
    SpecFileError,
)
from lnprototest.utils import privkey_expand

from .connection import BadFrame, LnpeerConn, ReadStatus
from .features import option_parity
from .node import NODE_PRIVKEY, Lnpeerd, find_lnpeerd

# lnprototest's own variable: how long to wait for a message, a close or the node.
TIMEOUT = float(os.getenv("TIMEOUT", "60"))

# BOLT 1 message types the runner looks at.
WARNING = 1
ERROR = 17

# Features read from a probe node, per (binary, its mtime, startup flags): `has_option` is
# asked before the first `start()`, and a probe per test would double every test's cost.
_PROBED_FEATURES: Dict[Tuple[str, float, Tuple[str, ...]], bytes] = {}


class NoChainError(NotImplementedError):
    """A test asked for something only a node with a chain and channels can do."""

    def __init__(self, what: str):
        super().__init__(
            f"lnpeerd has no chain, wallet or channels (it is a transport node), so the "
            f"lnpeer runner cannot {what}; run this test with a full node's runner, such as "
            f"lnprototest.clightning.Runner"
        )


def _msgtype(message: bytes) -> int:
    return struct.unpack(">H", message[:2])[0]


class Runner(lnprototest.Runner):
    """Runs lnprototest's events against lnpeerd: `pytest --runner=lnpeer_lnprototest.Runner`.

    Each `--runner-args=X` becomes the lnpeerd option `--X`, as with Core Lightning's runner.
    The binary is `$LNPEERD`, else the newest one under the cargo target directory.
    """

    def __init__(self, config: Any):
        super().__init__(config)
        self.lnpeerd = find_lnpeerd()
        self.startup_flags: List[str] = [
            f"--{arg}" for arg in config.getoption("runner_args", default=[])
        ]
        self.timeout = TIMEOUT
        self.node: Optional[Lnpeerd] = None
        # The features `has_option` answered from, checked against every node started.
        self.answered_features: Optional[bytes] = None

    # --- the node ---------------------------------------------------------------------

    def is_running(self) -> bool:
        return self.node is not None and self.node.is_running()

    def start(self) -> None:
        self.logger.debug("[START] %s", self.lnpeerd)
        self.node = Lnpeerd(self.lnpeerd, self.directory, self.startup_flags, self.timeout)
        expected_id = coincurve.PublicKey.from_secret(
            privkey_expand(NODE_PRIVKEY).secret
        ).format()
        if self.node.id != expected_id:
            raise RuntimeError(
                f"lnpeerd's node id is {self.node.id.hex()}, not {expected_id.hex()}: "
                "it ignored --dev-force-privkey"
            )
        _PROBED_FEATURES[self._probe_key()] = self.node.init_features
        if (
            self.answered_features is not None
            and self.answered_features != self.node.init_features
        ):
            raise RuntimeError(
                f"has_option answered from init features {self.answered_features.hex()}, "
                f"but the node started with {self.node.init_features.hex()}"
            )

    def stop(self, print_logs: bool = False) -> None:
        self.logger.debug("[STOP]")
        for conn in self.conns.values():
            conn.close()
        node, self.node = self.node, None
        if node is None:
            return
        node.stop()
        if print_logs:
            self.logger.info("---------- lnpeerd output ----------\n%s", node.output())
            self.logger.info("---------- lnpeerd log ----------\n%s", node.log())
        node.remove()

    def restart(self) -> None:
        self.logger.debug("[RESTART]")
        self.stop()
        super().restart()
        self.start()

    def teardown(self) -> None:
        self.stop()
        super().teardown()

    def add_startup_flag(self, flag: str) -> None:
        self.logger.debug("[ADD STARTUP FLAG '%s']", flag)
        self.startup_flags.append(f"--{flag}")

    def get_node_privkey(self) -> str:
        return NODE_PRIVKEY

    # --- features ---------------------------------------------------------------------

    def has_option(self, optname: str) -> Optional[str]:
        """`"even"`/`"odd"` if lnpeerd's `init` sets that feature's bit (CLN's feature names),
        else None. The bits come from the node's `getinfo` (`our_features.init`)."""
        features = self.node_init_features()
        self.answered_features = features
        return option_parity(features, optname)

    def node_init_features(self) -> bytes:
        """The `features` of lnpeerd's `init`, from the running node, or from a probe node
        started with the same flags when none runs yet."""
        if self.node is not None:
            return self.node.init_features
        key = self._probe_key()
        if key not in _PROBED_FEATURES:
            probe = Lnpeerd(self.lnpeerd, self.directory, self.startup_flags, self.timeout)
            try:
                _PROBED_FEATURES[key] = probe.init_features
            finally:
                probe.stop()
                probe.remove()
        return _PROBED_FEATURES[key]

    def _probe_key(self) -> Tuple[str, float, Tuple[str, ...]]:
        return (str(self.lnpeerd), self.lnpeerd.stat().st_mtime, tuple(self.startup_flags))

    # --- connections ------------------------------------------------------------------

    def connect(self, event: Event, connprivkey: str) -> None:
        if self.node is None:
            raise SpecFileError(event, "lnpeerd is not running")
        try:
            conn = LnpeerConn(connprivkey, self.node.id, self.node.port, self.timeout)
        except (OSError, ValueError) as error:
            raise EventError(event, f"Cannot connect to lnpeerd: {error}")
        self.add_conn(conn)

    def recv(self, event: Event, conn: Conn, outbuf: bytes) -> None:
        """Sends `outbuf` (type and payload) to the node ("recv" is from its side)."""
        lnpeer_conn = self._conn(event, conn)
        try:
            lnpeer_conn.write(lnpeer_conn.seal(outbuf))
        except (BrokenPipeError, ConnectionResetError):
            # It closed: say what it sent last, if anything.
            said, _ = self._read(event, lnpeer_conn, timeout=1)
            if said is not None:
                raise EventError(event, f"Connection closed after sending {said.hex()}")
            raise EventError(event, "Connection closed")

    def send_bad_frame(
        self,
        event: Event,
        conn: Conn,
        message: bytes,
        mac: str,
        before: Sequence[bytes],
    ) -> None:
        """The `before` messages, then `message` in a frame whose `mac` ("header" or
        "body") has its last bit flipped, all in one write (see `events.SendBadFrame`)."""
        lnpeer_conn = self._conn(event, conn)
        good = b"".join(lnpeer_conn.seal(m) for m in before)
        frame = bytearray(lnpeer_conn.seal(message))
        index = 17 if mac == "header" else len(frame) - 1
        frame[index] ^= 0x01
        try:
            lnpeer_conn.write(good + bytes(frame))
        except (BrokenPipeError, ConnectionResetError):
            raise EventError(event, "Connection closed before the bad frame was sent")

    def get_output_message(self, conn: Conn, event: Event) -> Optional[bytes]:
        """The next message from the node; None if it closed or sent nothing in time."""
        message, status = self._read(event, self._conn(event, conn), self.timeout)
        if message is None:
            self.logger.info("no message from lnpeerd on conn %s: %s", conn, status.value)
        return message

    def check_error(self, event: Event, conn: Conn) -> Optional[str]:
        super().check_error(event, conn)
        lnpeer_conn = self._conn(event, conn)
        if isinstance(event, ExpectDisconnect):
            self._expect_close(event, lnpeer_conn)
            return None
        message, _ = self._read(event, lnpeer_conn, self.timeout)
        return None if message is None else message.hex()

    def _expect_close(self, event: Event, conn: LnpeerConn) -> None:
        """The node must close the connection, after at most `warning`s."""
        while True:
            message, status = self._read(event, conn, self.timeout)
            if status is ReadStatus.CLOSED:
                return
            if status is ReadStatus.TIMEOUT:
                raise EventError(
                    event, f"Peer did not disconnect within {self.timeout:g} seconds"
                )
            assert message is not None
            if _msgtype(message) != WARNING:
                raise EventError(
                    event, f"Peer did not disconnect: it sent {message.hex()}"
                )
            self.logger.info("warning before the disconnect: %s", message.hex())

    def check_final_error(
        self,
        event: Event,
        conn: Conn,
        expected: bool,
        must_not_events: List[MustNotMsg],
    ) -> None:
        lnpeer_conn = self._conn(event, conn)
        try:
            if not expected:
                self._final_check(event, lnpeer_conn, must_not_events)
        finally:
            lnpeer_conn.close()

    def _final_check(
        self, event: Event, conn: LnpeerConn, must_not_events: List[MustNotMsg]
    ) -> None:
        # A length header whose MAC cannot verify: the node must handle everything sent
        # before it, then close (BOLT 8); what it sends meanwhile must not be an `error`.
        try:
            conn.write(bytes(18))
        except (BrokenPipeError, ConnectionResetError):
            pass
        while True:
            message, status = self._read(event, conn, self.timeout)
            if message is None:
                break
            for banned in must_not_events:
                if banned.matches(message):
                    raise EventError(
                        event, f"Got msg banned by {banned}: {message.hex()}"
                    )
            if _msgtype(message) == ERROR:
                raise EventError(event, f"Got error msg: {message.hex()}")
        if status is ReadStatus.TIMEOUT:
            raise EventError(
                event,
                f"lnpeerd did not close the connection within {self.timeout:g} seconds of "
                "a frame whose MAC does not verify",
            )

    def _read(
        self, event: Event, conn: LnpeerConn, timeout: float
    ) -> Tuple[Optional[bytes], ReadStatus]:
        try:
            return conn.read(timeout)
        except BadFrame as error:
            raise EventError(event, f"lnpeerd sent a bad frame: {error}")

    def _conn(self, event: Event, conn: Optional[Conn]) -> LnpeerConn:
        if not isinstance(conn, LnpeerConn):
            raise SpecFileError(event, f"Not an lnpeer connection: {conn}")
        return conn

    # --- what a transport node does not have --------------------------------------------

    def getblockheight(self) -> int:
        raise NoChainError("report a block height")

    def trim_blocks(self, newheight: int) -> None:
        raise NoChainError("invalidate blocks")

    def add_blocks(self, event: Event, txs: List[str], n: int) -> None:
        raise NoChainError("mine blocks or broadcast transactions")

    def expect_tx(self, event: Event, txid: str) -> None:
        raise NoChainError("watch the mempool for a transaction")

    def invoice(self, event: Event, amount: int, preimage: str) -> None:
        raise NoChainError("create an invoice")

    def accept_add_fund(self, event: Event) -> None:
        raise NoChainError("contribute funds to a channel open")

    def fundchannel(
        self,
        event: Event,
        conn: Conn,
        amount: int,
        feerate: int = 0,
        expect_fail: bool = False,
    ) -> None:
        raise NoChainError("fund a channel")

    def init_rbf(
        self,
        event: Event,
        conn: Conn,
        channel_id: str,
        amount: int,
        utxo_txid: str,
        utxo_outnum: int,
        feerate: int,
    ) -> None:
        raise NoChainError("bump a channel funding transaction")

    def addhtlc(self, event: Event, conn: Conn, amount: int, preimage: str) -> None:
        raise NoChainError("offer an HTLC")

    def get_keyset(self) -> KeySet:
        raise NoChainError("give channel base secrets")

    def get_node_bitcoinkey(self) -> str:
        raise NoChainError("give a channel funding key")

    def close_channel(self, channel_id: str) -> None:
        raise NoChainError("close a channel")

