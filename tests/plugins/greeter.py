#!/usr/bin/env python3
"""An option, RPC methods and a custom notification topic.

- option `greeting` (string, default "Hello");
- rpcmethod `hello [name]` -> {"greeting": "<greeting> <name>"} (name defaults
  to "world"); it also emits the custom notification `hello_said`
  {"name", "greeting"} and logs "Said <greeting> <name>". An empty name is
  refused with error code 1001 "name must not be empty";
- rpcmethod `crash`: the process exits (status 1) without replying, so the
  caller gets lightningd's -4 "Plugin terminated before replying to RPC call.";
- logs "greeter initialised with greeting=<greeting>" on init.
"""
import os

from pyln.client import Plugin, RpcException

plugin = Plugin()
plugin.add_option('greeting', 'Hello', 'How to greet', opt_type='string')
plugin.add_notification_topic('hello_said')


@plugin.init()
def init(options, configuration, plugin, **kwargs):
    plugin.log("greeter initialised with greeting={}".format(
        plugin.get_option('greeting')))


@plugin.method('hello')
def hello(plugin, name='world'):
    """Greets {name} with the `greeting` option."""
    if name == '':
        raise RpcException('name must not be empty', code=1001)
    text = '{} {}'.format(plugin.get_option('greeting'), name)
    plugin.notify('hello_said', {'name': name, 'greeting': text})
    plugin.log('Said {}'.format(text))
    return {'greeting': text}


@plugin.method('crash')
def crash(plugin):
    """Exits without replying."""
    plugin.log('crash: exiting without a reply')
    os._exit(1)


plugin.run()
