"""Feature names as lnprototest's tests ask for them, and the answer `has_option` gives.

lnprototest's tests call `runner.has_option(name)` with Core Lightning's feature names
(lightningd's `--list-features-only` prints `<name>/<odd|even>` for each bit of its `init`,
from CLN's `common/features.c`), so the names below are CLN's, each with its even bit from
BOLT 9. Which bits are set is not listed here: it is read from the node (`getinfo`'s
`our_features.init`), so a plugin's `featurebits` or a change to lnpeer's `init` shows up
without touching this file.
"""

from typing import Dict, Optional

# CLN's name for each feature pair, keyed by its even (compulsory) bit.
FEATURE_BITS: Dict[str, int] = {
    "option_data_loss_protect": 0,
    "option_initial_routing_sync": 2,
    "option_upfront_shutdown_script": 4,
    "option_gossip_queries": 6,
    "option_var_onion_optin": 8,
    "option_gossip_queries_ex": 10,
    "option_static_remotekey": 12,
    "option_payment_secret": 14,
    "option_basic_mpp": 16,
    "option_support_large_channel": 18,
    "option_anchor_outputs": 20,
    "option_anchors": 22,
    "option_route_blinding": 24,
    "option_shutdown_anysegwit": 26,
    "option_dual_fund": 28,
    "option_amp": 30,
    "option_quiesce": 34,
    "option_onion_messages": 38,
    "option_want_peer_backup_storage": 40,
    "option_provide_peer_backup_storage": 42,
    "option_channel_type": 44,
    "option_scid_alias": 46,
    "option_payment_metadata": 48,
    "option_zeroconf": 50,
    "option_keysend": 54,
    "option_trampoline_routing": 56,
    "option_splice": 62,
    "option_experimental_splice": 162,
}


def bit_is_set(features: bytes, bit: int) -> bool:
    """Whether `bit` is set in a BOLT 9 bitmap (big-endian: bit 0 is the last byte's lowest)."""
    byte = len(features) - 1 - bit // 8
    return byte >= 0 and bool(features[byte] & (1 << (bit % 8)))


def option_parity(features: bytes, optname: str) -> Optional[str]:
    """`"even"` or `"odd"` if the node's `init` `features` set that feature's bit, else None.

    Names that are not feature bits (CLN's `supports_*`, which lnprototest answers `"true"`)
    are about channels, which lnpeer does not have, so they are None too; so is a name this
    table does not know. Both bits set means required, as BOLT 9 reads it.
    """
    even = FEATURE_BITS.get(optname)
    if even is None:
        return None
    if bit_is_set(features, even):
        return "even"
    if bit_is_set(features, even + 1):
        return "odd"
    return None
