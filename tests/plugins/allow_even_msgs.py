#!/usr/bin/env python3
"""Declares the even custom message type 0x8888 (34952) in `custommessages`
and logs it from the custommsg hook.

Modelled on Core Lightning's tests/plugins/allow_even_msgs.py (which uses
43690). Log line: "Got message 34952 payload=<hex> from peer <peer_id>"
(the number is the message's type, for every custom message it is given).
"""
from pyln.client import Plugin

plugin = Plugin(custom_msgs=[0x8888])


@plugin.hook('custommsg')
def on_custommsg(peer_id, payload, plugin, **kwargs):
    plugin.log("Got message {} payload={} from peer {}".format(
        int(payload[:4], 16), payload, peer_id))
    return {'result': 'continue'}


plugin.run()
