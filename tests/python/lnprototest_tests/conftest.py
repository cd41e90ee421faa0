"""pytest set-up for lnpeer's tests written with lnprototest's events: BOLT 1, a frame with a
bad MAC (BOLT 8), and the runner itself.

The options are lnprototest's own (`--runner`, `--runner-args`), so these tests can also run
against another runner, e.g. `--runner=lnprototest.clightning.Runner`; the default is
lnpeerd's. Every test talks in the BOLT 1 message namespace only: a message of any other type
from the node fails the `ExpectMsg` that reads it.
"""

import importlib
import sys
from pathlib import Path
from typing import Any, Generator

import lnprototest
import pyln.spec.bolt1
import pytest

# `lnpeer_lnprototest` sits beside this directory: make it importable without installing it.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def pytest_addoption(parser: Any) -> None:
    parser.addoption(
        "--runner",
        action="store",
        default="lnpeer_lnprototest.Runner",
        help="runner to use, as module.Class",
    )
    parser.addoption(
        "--runner-args",
        action="append",
        default=[],
        help="parameters for the runner (lnpeerd's and CLN's: each X becomes option --X)",
    )


@pytest.fixture()
def runner(pytestconfig: Any) -> Generator[Any, None, None]:
    module, _, name = pytestconfig.getoption("runner").rpartition(".")
    runner = getattr(importlib.import_module(module), name)(pytestconfig)
    yield runner
    runner.teardown()


@pytest.fixture(autouse=True)
def bolt1_namespace() -> Generator[None, None, None]:
    lnprototest.assign_namespace(pyln.spec.bolt1.namespace)
    yield
    lnprototest.assign_namespace(lnprototest.peer_message_namespace())
