#!/usr/bin/env python3
"""Subscribes to the node's notifications and logs each one it receives.

Topics: connect, disconnect, custommsg, plugin_started, plugin_stopped,
warning, shutdown, and `hello_said` (a custom topic that greeter.py declares
and emits). It also sits on the custommsg hook (before custommsg_a.py), so that the
order of the `custommsg` notification and the hook call can be seen in one
plugin's log (lightningd notifies before it starts the hook chain).

Log lines:
  "Got connect notification id=<id> direction=<in|out> address=<json>"
  "Got disconnect notification id=<id>"
  "Got custommsg notification peer_id=<id> payload=<hex>"
  "Got custommsg hook peer_id=<id> payload=<hex>"
  "Got plugin_started notification plugin_name=<name> plugin_path=<path>"
  "Got plugin_stopped notification plugin_name=<name> plugin_path=<path>"
  "Got warning notification level=<level> source=<source> log=<text>"
  "Got hello_said notification origin=<plugin> name=<name> greeting=<text>"
  "Got shutdown notification" (then the plugin exits)
"""
import json
import sys

from pyln.client import Plugin

plugin = Plugin()


def body(topic, kwargs):
    """The notification's fields, whichever wrapping lightningd used.

    Modern: params = {"<topic>": {...}}. Old: params = {"payload": {...}}
    (pyln also copies one into the other). Custom topics emitted by pyln carry
    their fields both flat and under the topic name, so unwrap once more.
    """
    data = kwargs.get(topic)
    if not isinstance(data, dict):
        data = kwargs.get('payload')
    if not isinstance(data, dict):
        data = kwargs
    if isinstance(data.get(topic), dict):
        data = data[topic]
    return data


@plugin.subscribe('connect')
def on_connect(plugin, **kwargs):
    c = body('connect', kwargs)
    plugin.log("Got connect notification id={} direction={} address={}".format(
        c.get('id'), c.get('direction'), json.dumps(c.get('address'))))


@plugin.subscribe('disconnect')
def on_disconnect(plugin, **kwargs):
    d = body('disconnect', kwargs)
    plugin.log("Got disconnect notification id={}".format(d.get('id')))


@plugin.subscribe('custommsg')
def on_custommsg_notification(plugin, **kwargs):
    m = body('custommsg', kwargs)
    plugin.log("Got custommsg notification peer_id={} payload={}".format(
        m.get('peer_id'), m.get('payload')))


@plugin.hook('custommsg', before=['custommsg_a.py'])
def on_custommsg_hook(peer_id, payload, plugin, **kwargs):
    plugin.log("Got custommsg hook peer_id={} payload={}".format(
        peer_id, payload))
    return {'result': 'continue'}


@plugin.subscribe('plugin_started')
def on_plugin_started(plugin, **kwargs):
    p = body('plugin_started', kwargs)
    plugin.log("Got plugin_started notification plugin_name={} plugin_path={}".format(
        p.get('plugin_name'), p.get('plugin_path')))


@plugin.subscribe('plugin_stopped')
def on_plugin_stopped(plugin, **kwargs):
    p = body('plugin_stopped', kwargs)
    plugin.log("Got plugin_stopped notification plugin_name={} plugin_path={}".format(
        p.get('plugin_name'), p.get('plugin_path')))


@plugin.subscribe('warning')
def on_warning(plugin, **kwargs):
    w = body('warning', kwargs)
    plugin.log("Got warning notification level={} source={} log={}".format(
        w.get('level'), w.get('source'), w.get('log')))


@plugin.subscribe('hello_said')
def on_hello_said(plugin, origin=None, **kwargs):
    h = body('hello_said', kwargs)
    plugin.log("Got hello_said notification origin={} name={} greeting={}".format(
        origin, h.get('name'), h.get('greeting')))


@plugin.subscribe('shutdown')
def on_shutdown(plugin, **kwargs):
    plugin.log("Got shutdown notification")
    sys.exit(0)


plugin.run()
