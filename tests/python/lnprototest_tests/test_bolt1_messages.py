"""BOLT 1's rule for message types it does not know: "it's ok to be odd"."""

from typing import Any

import pytest
from lnprototest import ExpectDisconnect, ExpectMsg, RawMsg
from lnprototest.utils import run_runner

from bolt1 import init_exchange, ping_answered, warning_text


@pytest.mark.parametrize(
    "message",
    [
        "270f",  # 9999, no payload
        "270f" + "00" * 40,
        "8001" + "ffee",  # custom range (32768 and up)
    ],
)
def test_unknown_odd_message_is_ignored(runner: Any, message: str) -> None:
    # BOLT 1: for an unknown odd type the receiver "MUST ignore the received message": no
    # answer, the connection stays, and a later ping is answered. The final check then
    # requires that no `error` came back for it.
    run_runner(runner, init_exchange() + [RawMsg(bytes.fromhex(message))] + ping_answered())


@pytest.mark.parametrize("message", ["2710", "2710" + "abcd", "8000"])
def test_unknown_even_message_closes_the_connection(runner: Any, message: str) -> None:
    # BOLT 1: for an unknown even type the receiver "MUST close the connection". lnpeerd
    # (as Core Lightning v23.11+) first sends a warning quoting the message.
    run_runner(
        runner,
        init_exchange()
        + [
            RawMsg(bytes.fromhex(message)),
            ExpectMsg("warning", if_match=warning_text(f"Invalid unknown even msg {message}")),
            ExpectDisconnect(),
        ],
    )
