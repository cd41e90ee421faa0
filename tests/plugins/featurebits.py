#!/usr/bin/env python3
"""Adds feature bit 103 (odd: optional, unknown to peers) to the node's
`init` and `node` features through the manifest's `featurebits`.

Not dynamic: lightningd refuses featurebits from a dynamic plugin ("Custom
featurebits only allows for non-dynamic plugins"), as in Core Lightning's own
tests/plugins/feature-test.py.

Log line on init: "featurebits: init and node feature bit 103 requested".
"""
from pyln.client import Plugin

# Bit 103: big-endian bitmap of 13 bytes, top bit of the first byte.
BIT_103 = '80' + '00' * 12

plugin = Plugin(dynamic=False, init_features=BIT_103, node_features=BIT_103)


@plugin.init()
def init(options, configuration, plugin, **kwargs):
    plugin.log("featurebits: init and node feature bit 103 requested")


plugin.run()
