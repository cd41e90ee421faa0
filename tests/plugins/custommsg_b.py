#!/usr/bin/env python3
"""custommsg hook filtered to type 0xaaff and ordered after custommsg_a.py.

A port of Core Lightning's tests/plugins/custommsg_b.py (same log text, same
filter), plus `after=["custommsg_a.py"]` so the chain order does not depend on
the order the plugins were registered in.
Log line: "Got custommessage_b <payload hex> from peer <peer_id>".
"""
from pyln.client import Plugin

plugin = Plugin()


@plugin.hook('custommsg', after=['custommsg_a.py'], filters=[0xaaff])
def on_custommsg(peer_id, payload, plugin, message=None, **kwargs):
    plugin.log("Got custommessage_b {msg} from peer {peer_id}".format(
        msg=payload, peer_id=peer_id))
    return {'result': 'continue'}


plugin.run()
