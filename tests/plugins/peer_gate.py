#!/usr/bin/env python3
"""peer_connected hook: lets every peer in except the ones named with the
`peer-gate-reject <id>` rpcmethod, which it disconnects.

Log lines:
  "peer_gate: peer_connected id=<id> direction=<in|out> addr=<addr> features=<hex>"
  "peer_gate: rejecting <id>" (then it answers
   {"result": "disconnect", "error_message": "peer_gate says no"})
`peer-gate-reject id` answers {"rejecting": [<ids>]}.
"""
from pyln.client import Plugin

plugin = Plugin()
rejected = set()


@plugin.hook('peer_connected')
def on_peer_connected(peer, plugin, **kwargs):
    plugin.log("peer_gate: peer_connected id={} direction={} addr={} features={}".format(
        peer.get('id'), peer.get('direction'), peer.get('addr'), peer.get('features')))
    if peer.get('id') in rejected:
        plugin.log("peer_gate: rejecting {}".format(peer.get('id')))
        return {'result': 'disconnect', 'error_message': 'peer_gate says no'}
    return {'result': 'continue'}


@plugin.method('peer-gate-reject')
def reject(plugin, id):
    """Disconnects peer {id} whenever it connects."""
    rejected.add(id)
    return {'rejecting': sorted(rejected)}


plugin.run()
