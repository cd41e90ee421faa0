#!/usr/bin/env python3
"""Follows the node's custom-message inbox with waitcustommsg, handling each message once.

Each handled message is appended to `inbox_follower.handled` in the node's lightning directory
as "<index> <peer_id> <payload>", in one write. The last complete line is also its cursor, so
the record of what it handled and where it resumes cannot disagree, whenever it is killed:
after a restart (of itself or of the node) it resumes after that index.
"""
import os
import threading

from pyln.client import Plugin, RpcError

plugin = Plugin()


def state_path(name):
    return os.path.join(plugin.lightning_dir, name)


def load_cursor():
    try:
        with open(state_path('inbox_follower.handled')) as f:
            lines = [line for line in f.read().split('\n') if line]
    except FileNotFoundError:
        return 0
    return int(lines[-1].split(' ')[0]) if lines else 0


def handle(message):
    line = "{} {} {}\n".format(message['index'], message['peer_id'], message['payload'])
    fd = os.open(state_path('inbox_follower.handled'), os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def follow():
    cursor = load_cursor()
    plugin.log("following the inbox from index {}".format(cursor))
    while True:
        try:
            message = plugin.rpc.call('waitcustommsg', {'since': cursor, 'timeout': 5})
        except RpcError as e:
            if e.error.get('code') == 2000:
                continue
            raise
        handle(message)
        cursor = message['index']


@plugin.init()
def init(options, configuration, plugin, **kwargs):
    threading.Thread(target=follow, daemon=True).start()


plugin.run()
