#!/usr/bin/env python3
"""Serves LSPS method `lsps99.hold` through lnpeerd's LSPS service and answers no call to it
until told to, so a test can keep LSPS requests pending (`--lsps-pending-per-peer`).

RPC methods for the test (names without a dot, so they are not LSPS methods):
- `listheld`: `{"held": [{"peer_id", "params"}, ...]}`, the calls waiting, oldest first.
- `releaseheld`: answers every waiting call with `{"released": true, "params": <its params>}`
  and returns `{"released": <how many>}`.
"""
from pyln.client import Plugin

plugin = Plugin()
held = []


@plugin.async_method("lsps99.hold")
def hold(request, peer_id, params, **kwargs):
    held.append((request, peer_id, params))


@plugin.method("listheld")
def list_held(plugin, **kwargs):
    return {"held": [{"peer_id": peer_id, "params": params} for _, peer_id, params in held]}


@plugin.method("releaseheld")
def release_held(plugin, **kwargs):
    released = len(held)
    for request, _, params in held:
        request.set_result({"released": True, "params": params})
    held.clear()
    return {"released": released}


plugin.run()
