// The lnpeer console: connects to a Lightning node's WebSocket listener with lnmessage, and runs
// getinfo, listpeers and sendcustommsg on it through commando with the rune the user gives.
//
// Everything the node sends is shown with textContent, never parsed as HTML. The rune stays in
// memory (the connection's session) and is never stored.
//
// Bundled for the browser by console/build.sh (esbuild, an IIFE); see the README.

import LnMessage from 'lnmessage';

/** How long a connection attempt may take: lnmessage itself waits forever. */
const CONNECT_MS = 15_000;
/** How long one command may take: lnmessage has no timeout on commando calls. */
const COMMAND_MS = 30_000;

const NODE_ID = /^0[23][0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

/** The live connection: {ln, nodeId, url, rune}, or null. */
let session = null;

const byId = (id) => document.getElementById(id);

/** An element with text content (never HTML) and an optional class. */
function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (className) {
    node.className = className;
  }
  return node;
}

/** A mistake in what the user typed (shown without a code). */
class InputError extends Error {}

/** `promise`, or a rejection naming `what` after `ms`. */
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- Status and errors ----------------------------------------------------------------

function setStatus(text) {
  byId('status').textContent = text;
}

function clearErrors() {
  const box = byId('error');
  box.replaceChildren();
  box.hidden = true;
}

/**
 * Adds an error to the error area: what failed, and the node's code and message when it sent
 * them (commando rejects with the JSON-RPC error object {code, message[, data]}).
 */
function showError(what, error) {
  const box = byId('error');
  const entry = element('div', undefined, 'error-entry');
  const heading = element('p', what, 'error-what');
  const isRpcError = error && typeof error === 'object' && !(error instanceof Error) && 'code' in error;
  if (isRpcError) {
    heading.append(' ', element('span', `code ${error.code}`, 'error-code'));
  }
  entry.append(heading);
  const message = isRpcError || error instanceof Error ? String(error.message) : String(error);
  entry.append(element('p', message, 'error-message'));
  if (isRpcError && error.data !== undefined) {
    entry.append(element('pre', JSON.stringify(error.data, null, 2), 'error-data'));
  }
  box.append(entry);
  box.hidden = false;
}

// ---- Input -----------------------------------------------------------------------------

function nodeIdFrom(input, what) {
  const value = input.value.trim().toLowerCase();
  if (!NODE_ID.test(value)) {
    throw new InputError(
      `${what} must be 66 hex characters starting with 02 or 03 (got ${value.length} characters)`,
    );
  }
  return value;
}

/** `host:port`, optionally written as a ws:// or wss:// URL. */
function addressFrom(input) {
  const text = input.value.trim();
  let rest = text;
  let protocol = 'ws:';
  const scheme = /^(wss?):\/\//i.exec(rest);
  if (scheme) {
    protocol = `${scheme[1].toLowerCase()}:`;
    rest = rest.slice(scheme[0].length).replace(/\/+$/, '');
  }
  if (rest.startsWith('[')) {
    throw new InputError('lnmessage does not connect to IPv6 addresses: use an IPv4 address or a host name');
  }
  const parts = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(rest);
  const port = parts ? Number(parts[2]) : 0;
  if (!parts || port < 1 || port > 65535) {
    throw new InputError(`The WebSocket address must be host:port, such as 127.0.0.1:9736 (got "${text}")`);
  }
  return { ip: parts[1], port, protocol };
}

// ---- Commands --------------------------------------------------------------------------

/** Runs `method` on the node through commando with the session's rune. */
function call(method, params = {}) {
  if (!session) {
    return Promise.reject(new InputError('Not connected: connect to a node first'));
  }
  const { ln, rune } = session;
  return within(COMMAND_MS, method, ln.commando({ method, params, rune }));
}

function showInfo(info) {
  byId('info-id').textContent = info.id ?? '';
  byId('info-alias').textContent = info.alias ?? '';
  byId('info-version').textContent = info.version ?? '';
  byId('info-num-peers').textContent = String(info.num_peers ?? '');
  const bindings = byId('info-bindings');
  bindings.replaceChildren(
    ...(info.binding ?? []).map((binding) => {
      const kind = binding.subtype ? `${binding.type} ${binding.subtype}` : binding.type;
      const where = binding.socket ?? `${binding.address ?? '*'}:${binding.port}`;
      return element('li', `${kind} ${where}`);
    }),
  );
  byId('info-section').hidden = false;
}

function showPeers(peers) {
  const ourId = session?.ln.publicKey;
  const rows = peers.map((peer) => {
    const row = document.createElement('tr');
    const idCell = element('td', undefined, 'mono');
    idCell.append(element('span', peer.id, 'peer-id'));
    if (peer.id === ourId) {
      idCell.append(' ', element('span', '(this console)', 'note'));
    }
    const use = element('button', 'Message', 'small');
    use.type = 'button';
    use.title = 'Send this peer a custom message';
    use.addEventListener('click', () => {
      byId('msg-node-id').value = peer.id;
      byId('msg-hex').focus();
    });
    const actions = document.createElement('td');
    if (peer.connected && peer.id !== ourId) {
      actions.append(use);
    }
    row.append(
      idCell,
      element('td', peer.connected ? 'yes' : 'no', peer.connected ? 'yes' : 'no'),
      element('td', peer.features ?? '', 'mono'),
      actions,
    );
    return row;
  });
  byId('peers').tBodies[0].replaceChildren(...rows);
  byId('peers-empty').hidden = peers.length > 0;
  byId('peer-ids').replaceChildren(
    ...peers.filter((peer) => peer.id !== ourId).map((peer) => {
      const option = document.createElement('option');
      option.value = peer.id;
      return option;
    }),
  );
  byId('peers-section').hidden = false;
  byId('custommsg-section').hidden = false;
}

function hideResults() {
  for (const id of ['info-section', 'peers-section', 'custommsg-section']) {
    byId(id).hidden = true;
  }
  byId('msg-result').textContent = '';
}

/** getinfo and listpeers; each failure is shown on its own. */
async function refresh() {
  const [info, peers] = await Promise.allSettled([call('getinfo'), call('listpeers')]);
  if (info.status === 'fulfilled') {
    showInfo(info.value);
  } else {
    showError('getinfo failed', info.reason);
    // 19537: commando's "Invalid rune" (bad, blacklisted or restricted rune).
    if (info.reason?.code === 19537 && session) {
      setStatus(`Connected to ${session.url}, but the node refuses this rune.`);
    }
  }
  if (peers.status === 'fulfilled') {
    showPeers(peers.value.peers ?? []);
  } else {
    showError('listpeers failed', peers.reason);
  }
}

// ---- Connection ------------------------------------------------------------------------

function disconnect() {
  if (session) {
    const { ln } = session;
    session = null;
    ln.disconnect();
  }
  byId('disconnect').disabled = true;
  hideResults();
  setStatus('Not connected.');
}

async function connect(event) {
  event.preventDefault();
  clearErrors();
  let nodeId;
  let address;
  let rune;
  try {
    nodeId = nodeIdFrom(byId('node-id'), 'The node id');
    address = addressFrom(byId('address'));
    rune = byId('rune').value.trim();
    if (!rune) {
      throw new InputError('A rune is needed: create one on the node with createrune');
    }
  } catch (error) {
    showError('Cannot connect', error);
    return;
  }
  disconnect();
  const url = `${address.protocol}//${address.ip}:${address.port}`;
  setStatus(`Connecting to ${url}…`);
  byId('connect').disabled = true;
  try {
    // lnmessage's default is wss:; a node's own WebSocket listener speaks plain ws:.
    const ln = new LnMessage({
      remoteNodePublicKey: nodeId,
      ip: address.ip,
      port: address.port,
      wsProtocol: address.protocol,
    });
    // No reconnecting behind the user's back: a failure shows, and Connect tries again.
    const connected = await within(CONNECT_MS, 'connect', ln.connect(false)).catch((error) => {
      ln.disconnect();
      throw error;
    });
    if (!connected) {
      ln.disconnect();
      throw new Error(
        `No Lightning connection to ${nodeId} at ${url}: is the node listening there (--bind-addr=ws:…) and is the node id right?`,
      );
    }
    session = { ln, nodeId, url, rune };
    ln.connectionStatus$.subscribe((status) => {
      if (session?.ln === ln && status === 'disconnected') {
        setStatus(`Disconnected from ${url}.`);
        byId('disconnect').disabled = true;
      }
    });
    setStatus(`Connected to ${nodeId} at ${url}, as ${ln.publicKey}.`);
    byId('disconnect').disabled = false;
    await refresh();
  } catch (error) {
    showError('Cannot connect', error);
    setStatus('Not connected.');
  } finally {
    byId('connect').disabled = false;
  }
}

async function sendCustomMessage(event) {
  event.preventDefault();
  clearErrors();
  const result = byId('msg-result');
  result.textContent = '';
  let nodeId;
  let msg;
  try {
    nodeId = nodeIdFrom(byId('msg-node-id'), "The peer's node id");
    msg = byId('msg-hex').value.trim().toLowerCase().replace(/\s+/g, '');
    if (!HEX.test(msg) || msg.length < 4) {
      throw new InputError('The message must be hex: a 2-byte type, then the payload');
    }
  } catch (error) {
    showError('Cannot send', error);
    return;
  }
  byId('send').disabled = true;
  result.textContent = 'Sending…';
  try {
    const sent = await call('sendcustommsg', { node_id: nodeId, msg });
    const type = parseInt(msg.slice(0, 4), 16);
    result.textContent = `Sent ${msg.length / 2} bytes (type ${type}) to ${nodeId}: ${sent?.status ?? 'done'}`;
  } catch (error) {
    result.textContent = '';
    showError('sendcustommsg failed', error);
  } finally {
    byId('send').disabled = false;
  }
}

async function onRefresh() {
  clearErrors();
  await refresh();
}

byId('connect-form').addEventListener('submit', connect);
byId('disconnect').addEventListener('click', () => {
  clearErrors();
  disconnect();
});
byId('refresh').addEventListener('click', onRefresh);
byId('custommsg-form').addEventListener('submit', sendCustomMessage);
