#!/usr/bin/env python3
"""Dies in the middle of its first custommsg hook call (os._exit, no reply).

Ordered before custommsg_a.py. Log line (just before it exits):
"hook_crash: exiting in the custommsg hook for <payload hex>".
"""
import os

from pyln.client import Plugin

plugin = Plugin()


@plugin.hook('custommsg', before=['custommsg_a.py'])
def on_custommsg(peer_id, payload, plugin, **kwargs):
    plugin.log("hook_crash: exiting in the custommsg hook for {}".format(payload))
    os._exit(1)


plugin.run()
