#!/usr/bin/env python3
"""Answers every custommsg hook call with a result that is not `continue`.

Ordered before custommsg_a.py. Log line:
"hook_garbage: answering garbage for <payload hex>".
The reply is {"result": "garbage", "note": "not a valid custommsg answer"}.
"""
from pyln.client import Plugin

plugin = Plugin()


@plugin.hook('custommsg', before=['custommsg_a.py'])
def on_custommsg(peer_id, payload, plugin, **kwargs):
    plugin.log("hook_garbage: answering garbage for {}".format(payload))
    return {'result': 'garbage', 'note': 'not a valid custommsg answer'}


plugin.run()
