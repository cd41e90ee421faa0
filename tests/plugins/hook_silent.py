#!/usr/bin/env python3
"""Never answers a custommsg hook call (but keeps running and reading).

Ordered before custommsg_a.py, for --plugin-hook-timeout. The hook is
registered as a background hook, so the plugin keeps reading its stdin and
exits as soon as lightningd closes it. Log line:
"hook_silent: not answering the custommsg hook for <payload hex>".
"""
from pyln.client import Plugin

plugin = Plugin()


def on_custommsg(peer_id, payload, plugin, request, **kwargs):
    plugin.log("hook_silent: not answering the custommsg hook for {}".format(payload))


plugin.add_hook('custommsg', on_custommsg, background=True,
                before=['custommsg_a.py'])

plugin.run()
