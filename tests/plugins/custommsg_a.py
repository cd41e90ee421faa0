#!/usr/bin/env python3
"""custommsg hook without a filter: logs every custom message it is given.

A port of Core Lightning's tests/plugins/custommsg_a.py (same log text).
Log line: "Got custommessage_a <payload hex> from peer <peer_id>".
"""
from pyln.client import Plugin

plugin = Plugin()


@plugin.hook('custommsg')
def on_custommsg(peer_id, payload, plugin, message=None, **kwargs):
    plugin.log("Got custommessage_a {msg} from peer {peer_id}".format(
        msg=payload, peer_id=peer_id))
    return {'result': 'continue'}


plugin.run()
