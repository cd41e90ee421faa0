"""An lnprototest runner for lnpeerd.

    pytest --runner=lnpeer_lnprototest.Runner <lnprototest's tests or ours>

`Runner` starts lnpeerd with `--developer --dev-force-privkey=00..01` on a free 127.0.0.1 port
and drives it over BOLT 8 with pyln-proto; `SendBadFrame` is an extra event for frames whose MAC
does not verify. Install the pinned packages from `requirements.txt` (lnprototest 0.0.7 needs
pyln-proto < 24, so use a venv of its own, on Python 3.9 to 3.11).
"""

from .events import SendBadFrame
from .runner import NoChainError, Runner

__all__ = ["NoChainError", "Runner", "SendBadFrame"]
