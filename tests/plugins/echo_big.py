#!/usr/bin/env python3
"""RPC methods with large requests and replies, for commando tests.

- rpcmethod `echo [payload]` -> {"payload": <payload>, "length": <len(payload)>};
- rpcmethod `bigreply size` -> {"data": "<size times 'a'>", "size": size}.
"""
from pyln.client import Plugin

plugin = Plugin()


@plugin.method('echo')
def echo(plugin, payload=''):
    """Returns {payload} and its length."""
    return {'payload': payload, 'length': len(payload)}


@plugin.method('bigreply')
def bigreply(plugin, size):
    """Returns a string of {size} bytes."""
    size = int(size)
    return {'data': 'a' * size, 'size': size}


plugin.run()
