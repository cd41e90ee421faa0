"""BOLT 1 `init` and ping/pong, and the feature-bit rules of `init` (BOLT 1 and BOLT 9)."""

from typing import Any

import pytest
from lnprototest import (
    Connect,
    Disconnect,
    ExpectDisconnect,
    ExpectMsg,
    Msg,
    TryAll,
    bitfield,
)
from lnprototest.stash import rcvd
from lnprototest.utils import run_runner

from bolt1 import check_node_init, init_exchange, ping_answered, warning_text


def test_init_exchange(runner: Any) -> None:
    # BOLT 1: "MUST send `init` as the first Lightning message for any connection": the
    # node's comes before we send anything (check_node_init checks its contents).
    run_runner(runner, init_exchange() + ping_answered())


def test_node_accepts_its_own_init_echoed(runner: Any) -> None:
    # The node's features are all known to it, so its own `init` sent back must be
    # accepted, with a first connection kept open or closed (TryAll: two passes).
    run_runner(
        runner,
        init_exchange("03")
        + [
            TryAll([], [Disconnect()]),
            Connect(connprivkey="02"),
            ExpectMsg("init", if_match=check_node_init),
            Msg("init", globalfeatures=rcvd(), features=rcvd()),
        ]
        + ping_answered(),
    )


@pytest.mark.parametrize("num_pong_bytes", [0, 1, 300, 65531])
def test_ping_gets_pong_of_the_size_asked(runner: Any, num_pong_bytes: int) -> None:
    # BOLT 1: "if `num_pong_bytes` is less than 65532: MUST respond by sending a `pong`
    # message, with `byteslen` equal to `num_pong_bytes`"; the sender "SHOULD set `ignored`
    # to 0s". What the ping itself carries does not matter.
    run_runner(
        runner,
        init_exchange()
        + [
            Msg("ping", num_pong_bytes=num_pong_bytes, ignored="ab" * 17),
            ExpectMsg("pong", ignored="00" * num_pong_bytes),
        ],
    )


def test_ping_of_65532_or_more_gets_no_pong(runner: Any) -> None:
    # BOLT 1: otherwise the receiver "MUST ignore the `ping`". Had either been answered, that
    # pong would come before the one for the last ping and fail the match.
    run_runner(
        runner,
        init_exchange()
        + [
            Msg("ping", num_pong_bytes=65532, ignored=""),
            Msg("ping", num_pong_bytes=65535, ignored="00" * 4),
        ]
        + ping_answered(5),
    )


@pytest.mark.parametrize("field", ["features", "globalfeatures"])
def test_unknown_odd_feature_is_ignored(runner: Any, field: str) -> None:
    # BOLT 1: the receiver "MUST ignore" unknown odd (optional) bits, in either bitmap.
    other = "globalfeatures" if field == "features" else "features"
    run_runner(
        runner,
        [
            Connect(connprivkey="02"),
            ExpectMsg("init", if_match=check_node_init),
            Msg("init", **{field: bitfield(99), other: ""}),
        ]
        + ping_answered(),
    )


@pytest.mark.parametrize("field", ["features", "globalfeatures"])
def test_unknown_even_feature_closes_the_connection(runner: Any, field: str) -> None:
    # BOLT 1: unknown even (required) bits: "MUST close the connection". The receiver ORs
    # both bitmaps, so globalfeatures counts too. lnpeerd says why first, as Core Lightning
    # does, with a warning (which BOLT 1 lets a sender follow with a close).
    other = "globalfeatures" if field == "features" else "features"
    run_runner(
        runner,
        [
            Connect(connprivkey="02"),
            ExpectMsg("init", if_match=check_node_init),
            Msg("init", **{field: bitfield(98), other: ""}),
            ExpectMsg("warning", if_match=warning_text("Unsupported feature 98")),
            ExpectDisconnect(),
        ],
    )


def test_unknown_even_feature_as_lnprototest_checks_it(runner: Any) -> None:
    # lnprototest's own test expects the close with no message in between; the runner
    # takes lnpeerd's warning-then-close as the disconnect.
    run_runner(
        runner,
        [
            Connect(connprivkey="02"),
            ExpectMsg("init"),
            Msg("init", globalfeatures="", features=bitfield(98)),
            ExpectDisconnect(),
        ],
    )


def test_assumed_features_as_required_are_accepted(runner: Any) -> None:
    # BOLT 9 marks option_data_loss_protect (0), var_onion_optin (8),
    # option_static_remotekey (12), payment_secret (14) and option_channel_type (44)
    # ASSUMED; LND, CLN and Eclair send them even. They are known, so nothing closes.
    run_runner(runner, init_exchange(features=bitfield(0, 8, 12, 14, 44)) + ping_answered())


def test_missing_feature_dependency_closes_the_connection(runner: Any) -> None:
    # BOLT 1: "if the feature vector does not set all known, transitive dependencies: MUST
    # close the connection". BOLT 9: basic_mpp (16/17) depends on payment_secret (14/15).
    run_runner(
        runner,
        [
            Connect(connprivkey="02"),
            ExpectMsg("init", if_match=check_node_init),
            Msg("init", globalfeatures="", features=bitfield(17)),
            ExpectMsg("warning", if_match=warning_text("Feature 17 requires feature 14")),
            ExpectDisconnect(),
        ],
    )


def test_has_option_reports_the_offered_bits(runner: Any) -> None:
    # lnpeerd offers these odd (optional) and nothing as even; the init check compares
    # the node's `init` with the same source.
    if not hasattr(runner, "node_init_features"):
        pytest.skip("only lnpeerd's runner reports its init features")
    assert runner.has_option("option_data_loss_protect") == "odd"
    assert runner.has_option("option_static_remotekey") == "odd"
    assert runner.has_option("option_anchor_outputs") is None
    assert runner.has_option("supports_open_accept_channel_type") is None
    run_runner(runner, init_exchange())
