#!/usr/bin/env python3
"""Serves two LSPS2 methods through lnpeerd's LSPS service (`--lsps-service`).

lnpeerd passes an LSPS request for method `lsps2.get_info` to the plugin RPC method of the
same name, with the client's node id and the request's params. `lsps2.get_info` answers with
a menu that echoes who asked and the token; `lsps2.buy` always refuses, with an LSPS2 error
code, to show errors travelling back.
"""
from pyln.client import Plugin, RpcException

plugin = Plugin()


@plugin.method("lsps2.get_info")
def get_info(plugin, peer_id, params, **kwargs):
    return {
        "opening_fee_params_menu": [],
        "asked_by": peer_id,
        "token": params.get("token"),
    }


@plugin.method("lsps2.buy")
def buy(plugin, peer_id, params, **kwargs):
    raise RpcException("invalid_opening_fee_params", code=201)


plugin.run()
