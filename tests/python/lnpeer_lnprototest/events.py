"""Events lnprototest does not have, for this runner."""

from typing import Optional, Sequence

from lnprototest import SpecFileError
from lnprototest.event import PerConnEvent

# Which MAC of the frame to break.
MACS = ("header", "body")


class SendBadFrame(PerConnEvent):
    """Sends `message` (type and payload, as bytes) in a BOLT 8 frame whose `mac` (`"header"`,
    the 2-byte length's, or `"body"`) has one bit flipped.

    The `before` messages go first, framed correctly, in the same write, so a test can check
    that the node handles what came before the bad frame and then closes. lnprototest's
    `RawMsg` cannot do this: it sends its bytes inside a valid frame.
    """

    def __init__(
        self,
        message: bytes,
        mac: str = "header",
        before: Sequence[bytes] = (),
        connprivkey: Optional[str] = None,
    ):
        super().__init__(connprivkey)
        if mac not in MACS:
            raise SpecFileError(self, f"mac must be one of {MACS}, not {mac!r}")
        self.message = message
        self.mac = mac
        self.before = list(before)

    def action(self, runner) -> bool:  # type: ignore[no-untyped-def]
        super().action(runner)
        send = getattr(runner, "send_bad_frame", None)
        if send is None:
            raise SpecFileError(
                self, f"{type(runner).__name__} cannot send a frame with a bad MAC"
            )
        send(self, self.find_conn(runner), self.message, self.mac, self.before)
        return True
