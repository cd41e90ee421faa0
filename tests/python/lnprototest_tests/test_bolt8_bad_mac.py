"""A frame whose MAC does not verify: BOLT 8 says the receiver "MUST close the connection"
(the lnprototest runners' final check of every connection relies on it)."""

from typing import Any

import pytest
from lnprototest import Connect, ExpectDisconnect, ExpectMsg
from lnprototest.utils import run_runner
from lnpeer_lnprototest import SendBadFrame

from bolt1 import check_node_init, init_exchange

# ping: num_pong_bytes, then no ignored bytes.
PING = bytes.fromhex("0012" + "0004" + "0000")
PING_ONE = bytes.fromhex("0012" + "0001" + "0000")


@pytest.mark.parametrize("mac", ["header", "body"])
def test_bad_mac_closes_the_connection(runner: Any, mac: str) -> None:
    run_runner(runner, init_exchange() + [SendBadFrame(PING, mac=mac), ExpectDisconnect()])


@pytest.mark.parametrize("mac", ["header", "body"])
def test_messages_before_a_bad_mac_are_handled(runner: Any, mac: str) -> None:
    # The good ping and the bad frame arrive in one write: the ping is answered, then the
    # node closes; the bad frame's own ping is not.
    run_runner(
        runner,
        init_exchange()
        + [
            SendBadFrame(PING, mac=mac, before=[PING_ONE]),
            ExpectMsg("pong", ignored="00"),
            ExpectDisconnect(),
        ],
    )


def test_bad_mac_on_init_closes_the_connection(runner: Any) -> None:
    init = bytes.fromhex("0010" + "0000" + "0000")
    run_runner(
        runner,
        [
            Connect(connprivkey="02"),
            ExpectMsg("init", if_match=check_node_init),
            SendBadFrame(init, mac="body"),
            ExpectDisconnect(),
        ],
    )
