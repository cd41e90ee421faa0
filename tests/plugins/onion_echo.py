#!/usr/bin/env python3
"""Onion message hooks for tests/onion_messages.rs and tests/onion_ldk.rs.

Logs every onion message it is handed, one line each, as
"onion_message_recv: <json>" or "onion_message_recv_secret: <json>" (the hook's
whole `onion_message` object, keys sorted). An unsolicited message that carries
a reply path and a field of type 65537 is answered along that path with the
same bytes under type 65539, through `sendonionmessage ... blinded_path`.
Each `onionmessage_forward_fail` notification is logged as
"onionmessage_forward_fail: <json>" (its fields, keys sorted).
"""
import json

from pyln.client import Plugin

plugin = Plugin()

REQUEST_TYPE = 65537
REPLY_TYPE = 65539


@plugin.hook('onion_message_recv')
def on_recv(onion_message, plugin, **kwargs):
    plugin.log("onion_message_recv: " + json.dumps(onion_message, sort_keys=True))
    path = onion_message.get('reply_blindedpath')
    request = [f for f in onion_message.get('unknown_fields', [])
               if f['number'] == REQUEST_TYPE]
    if path is not None and request:
        try:
            plugin.rpc.call('sendonionmessage', {
                'hops': [],
                'tlvs': {str(REPLY_TYPE): request[0]['value']},
                'blinded_path': path,
            })
            plugin.log("onion reply sent")
        except Exception as error:  # noqa: BLE001 - logged for the test to read
            plugin.log("onion reply failed: {}".format(error))
    return {'result': 'continue'}


@plugin.hook('onion_message_recv_secret')
def on_recv_secret(onion_message, plugin, **kwargs):
    plugin.log("onion_message_recv_secret: " + json.dumps(onion_message, sort_keys=True))
    return {'result': 'continue'}


@plugin.subscribe('onionmessage_forward_fail')
def on_forward_fail(onionmessage_forward_fail, plugin, **kwargs):
    plugin.log("onionmessage_forward_fail: "
               + json.dumps(onionmessage_forward_fail, sort_keys=True))


plugin.run()
