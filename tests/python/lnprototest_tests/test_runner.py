"""The lnpeer runner itself: its node, its flags, and what it refuses to pretend."""

from typing import Any

import pytest
from lnprototest import Block
from lnprototest.utils import run_runner

from bolt1 import init_exchange, ping_answered

# The public key of private key 1 (the generator point), which lnprototest's tests take as
# the node id of a runner whose get_node_privkey() is "01".
NODE_ID_OF_KEY_ONE = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"


@pytest.fixture()
def lnpeer_runner(runner: Any) -> Any:
    from lnpeer_lnprototest import Runner

    if not isinstance(runner, Runner):
        pytest.skip("tests of lnpeer's runner")
    return runner


def test_node_key_is_forced(lnpeer_runner: Any) -> None:
    # --dev-force-privkey: getinfo's id, and the key the handshake authenticates.
    assert lnpeer_runner.get_node_privkey() == "01"
    lnpeer_runner.start()
    assert lnpeer_runner.node.id.hex() == NODE_ID_OF_KEY_ONE
    lnpeer_runner.stop()
    run_runner(lnpeer_runner, init_exchange() + ping_answered())


def test_startup_flags_reach_lnpeerd(lnpeer_runner: Any) -> None:
    lnpeer_runner.add_startup_flag("alias=LNPROTOTEST")
    lnpeer_runner.start()
    try:
        assert lnpeer_runner.node.rpc.getinfo()["alias"] == "LNPROTOTEST"
    finally:
        lnpeer_runner.stop()


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.getblockheight(),
        lambda r: r.trim_blocks(101),
        lambda r: r.add_blocks(None, [], 1),
        lambda r: r.expect_tx(None, "00" * 32),
        lambda r: r.invoice(None, 1000, "00" * 32),
        lambda r: r.accept_add_fund(None),
        lambda r: r.fundchannel(None, None, 999877),
        lambda r: r.init_rbf(None, None, "00" * 32, 1, "00" * 32, 0, 253),
        lambda r: r.addhtlc(None, None, 1000, "00" * 32),
        lambda r: r.get_keyset(),
        lambda r: r.get_node_bitcoinkey(),
        lambda r: r.close_channel("00" * 32),
    ],
)
def test_chain_and_channel_methods_say_there_is_no_chain(lnpeer_runner: Any, call: Any) -> None:
    from lnpeer_lnprototest import NoChainError

    with pytest.raises(NoChainError, match="lnpeerd has no chain, wallet or channels"):
        call(lnpeer_runner)


def test_a_test_needing_a_chain_fails_with_that_sentence(lnpeer_runner: Any) -> None:
    # lnprototest's BOLT 2 and BOLT 7 tests start with a Block event.
    with pytest.raises(AssertionError, match="cannot report a block height"):
        run_runner(lnpeer_runner, [Block(blockheight=102, number=6)])
