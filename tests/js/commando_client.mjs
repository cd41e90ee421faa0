// Drives lnpeerd's commando from lnmessage (the library Lightning web apps use), over a
// WebSocket and over TCP, and prints one JSON document of what happened; tests/lnmessage.rs
// asserts on it. Nothing is judged here: every outcome is recorded as it came.
//
// Environment:
//   LNPEER_NODE_MODULES  the provisioned node_modules (set by lnpeer_tests::npm::node_script)
//   NODE_ID              the node's id (33-byte compressed key, hex)
//   TCP_PORT, WS_PORT    its plain and WebSocket listeners on 127.0.0.1
//   RUNE                 an unrestricted rune
//   GETINFO_RUNE         a rune restricted to method=getinfo
//
// Output (stdout), one JSON object: {"ws": OUTCOMES, "tcp": OUTCOMES}, each OUTCOMES holding
// a field per step: a call's result (or the part of it that matters) as {"ok": ...}, or its
// rejection as {"error": {code, message}}. lnmessage's own log goes to stderr.

import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** How long one step may take: lnmessage has no timeouts of its own. */
const STEP_MS = 10_000;

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
};

const modules = env('LNPEER_NODE_MODULES');
const { default: LnMessage } = await import(
  pathToFileURL(path.join(modules, 'lnmessage', 'dist', 'index.js')).href
);

const nodeId = env('NODE_ID');
const rune = env('RUNE');
const getinfoRune = env('GETINFO_RUNE');

/** `promise`, or a rejection after STEP_MS naming `what`. */
function within(what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${STEP_MS} ms`)), STEP_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A step's outcome: {ok: shape(result)} or {error: {code, message}} (or the thrown text). */
async function outcome(what, promise, shape = (result) => result) {
  try {
    return { ok: shape(await within(what, promise)) };
  } catch (error) {
    if (error instanceof Error) {
      return { thrown: error.message };
    }
    return { error: { code: error.code, message: error.message } };
  }
}

/** The same rune with one restriction rewritten in its text: its authcode no longer matches. */
function rewriteRestriction(base64, from, to) {
  const bytes = Buffer.from(base64, 'base64url');
  const text = bytes.subarray(32).toString('latin1');
  if (!text.includes(from)) {
    throw new Error(`the rune's restrictions ${JSON.stringify(text)} lack ${from}`);
  }
  const forged = Buffer.concat([bytes.subarray(0, 32), Buffer.from(text.replace(from, to), 'latin1')]);
  return forged.toString('base64url');
}

/** The same rune with one bit of its authcode (the first 32 bytes) flipped. */
function flipAuthcodeBit(base64) {
  const bytes = Buffer.from(base64, 'base64url');
  bytes[3] ^= 0x01;
  return bytes.toString('base64url');
}

const logger = (transport) => {
  const line = (level) => (message) => process.stderr.write(`[${transport}] ${level} ${message}\n`);
  return { info: line('info'), warn: line('warn'), error: line('error') };
};

async function session(transport) {
  const port = Number(env(transport === 'ws' ? 'WS_PORT' : 'TCP_PORT'));
  const options = {
    remoteNodePublicKey: nodeId,
    ip: '127.0.0.1',
    port,
    logger: logger(transport),
  };
  let tcpSocket;
  if (transport === 'ws') {
    // The default is 'wss:'; lnpeerd, like lightningd, speaks plain ws (TLS is a proxy's job).
    options.wsProtocol = 'ws:';
  } else {
    tcpSocket = new net.Socket();
    options.tcpSocket = tcpSocket;
  }
  const ln = new LnMessage(options);
  const result = { url: ln.wsUrl, our_id: ln.publicKey };
  try {
    // No reconnecting: a failure must show, not be retried behind our back.
    result.connected = await within('connect', ln.connect(false)).catch((e) => e.message);
    if (result.connected !== true) {
      return result;
    }
    const call = (method, params, withRune) =>
      ln.commando({ method, params, rune: withRune });

    result.getinfo = await outcome('getinfo', call('getinfo', {}, rune), (info) => ({
      id: info.id,
      binding: info.binding,
    }));
    // lnmessage is a peer of the node itself: listpeers must show it, connected.
    result.listpeers = await outcome('listpeers', call('listpeers', {}, rune), (peers) =>
      peers.peers.map((peer) => ({ id: peer.id, connected: peer.connected })),
    );
    result.restricted_getinfo = await outcome(
      'restricted getinfo',
      call('getinfo', {}, getinfoRune),
      (info) => ({ id: info.id }),
    );
    result.restricted_listpeers = await outcome(
      'restricted listpeers',
      call('listpeers', {}, getinfoRune),
    );
    result.forged_restriction = await outcome(
      'forged restriction',
      call('listpeers', {}, rewriteRestriction(getinfoRune, 'method=getinfo', 'method=listpeers')),
    );
    result.flipped_authcode = await outcome(
      'flipped authcode',
      call('getinfo', {}, flipAuthcodeBit(rune)),
    );
    // A character outside base64url's alphabet: the rune cannot be decoded at all.
    result.undecodable = await outcome(
      'undecodable rune',
      call('getinfo', {}, `${rune.slice(0, 10)}*${rune.slice(11)}`),
    );
    // The connection survives refusals: one more good call.
    result.after_refusals = await outcome('getinfo again', call('getinfo', {}, rune), (info) => ({
      id: info.id,
    }));
    return result;
  } finally {
    ln.disconnect();
    tcpSocket?.destroy();
  }
}

const outcomes = {};
for (const transport of ['ws', 'tcp']) {
  try {
    outcomes[transport] = await session(transport);
  } catch (error) {
    outcomes[transport] = { failed: String(error?.stack ?? error) };
  }
}
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
// lnmessage's timers and sockets must not keep us alive.
process.exit(0);
