// Drives the browser console (console/index.html) in a real Chromium with playwright-core, as
// a person would: fill in the node, connect, read getinfo and the peers, send a custom message,
// then try a bad rune. Prints one JSON document of what the page showed; tests/
// browser_console.rs asserts on it. The page is served by a small HTTP server on 127.0.0.1
// (a port the OS picks) that lives as long as this script.
//
// Environment:
//   LNPEER_NODE_MODULES  the provisioned node_modules (set by lnpeer_tests::npm::node_script)
//   CHROMIUM             the browser executable
//   CONSOLE_DIR          the repository's console/ directory
//   BUNDLE_DIR           where console/build.sh put console.bundle.js (served as dist/)
//   NODE_ID, WS_ADDRESS  the node and its WebSocket listener (host:port)
//   RUNE, BAD_RUNE       a rune the node accepts, and one it refuses
//   PEER_ID, MESSAGE     the node's peer that gets the custom message, and the message (hex)
//   SCREENSHOT           the PNG of the connected page (the error page goes beside it)

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/** How long one step (a page load, a connection, a command shown) may take. */
const STEP_MS = 15_000;
/** The whole run: past this, the script reports what it has and exits. */
const RUN_MS = 90_000;

const env = (name) => {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set`);
  }
  return value;
};

const require = createRequire(path.join(env('LNPEER_NODE_MODULES'), 'noop.js'));
const { chromium } = require('playwright-core');

const consoleDir = path.resolve(env('CONSOLE_DIR'));
const bundleDir = path.resolve(env('BUNDLE_DIR'));
const screenshot = env('SCREENSHOT');
const errorScreenshot = screenshot.replace(/\.png$/, '-error.png');

const started = Date.now();
const outcome = { steps: [] };
/** Records that `name` starts, with the milliseconds since the script started. */
const step = (name) => {
  outcome.steps.push(name);
  process.stderr.write(`step: ${name} (${Date.now() - started} ms)\n`);
};

function finish(code) {
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  process.exit(code);
}

const watchdog = setTimeout(() => {
  outcome.failed = `the run took longer than ${RUN_MS} ms`;
  finish(1);
}, RUN_MS);

// ---- The page's HTTP server ------------------------------------------------------------

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png' };

/** The file a URL path names: dist/ from the bundle's directory, the rest from console/. */
function fileFor(urlPath) {
  const relative = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
  const [root, rest] = relative.startsWith('/dist/')
    ? [bundleDir, relative.slice('/dist/'.length)]
    : [consoleDir, relative.slice(1)];
  const file = path.resolve(root, rest);
  return file.startsWith(root + path.sep) ? file : null;
}

const server = http.createServer((request, response) => {
  const file = fileFor(new URL(request.url, 'http://localhost').pathname);
  fs.readFile(file ?? '', (error, body) => {
    process.stderr.write(`http: ${request.method} ${request.url} -> ${error ? 404 : 200}\n`);
    if (error || request.method !== 'GET') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const type = TYPES[path.extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const pageUrl = `http://127.0.0.1:${server.address().port}/`;

// ---- The browser -------------------------------------------------------------------------

step('launch');
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lnpeer-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: env('CHROMIUM'),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1100, height: 900 },
    timeout: STEP_MS,
  });
  outcome.browser = context.browser()?.version() ?? null;
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_MS);
  page.on('console', (message) => process.stderr.write(`page console.${message.type()}: ${message.text()}\n`));
  page.on('pageerror', (error) => {
    process.stderr.write(`page error: ${error.stack ?? error}\n`);
    (outcome.page_errors ??= []).push(String(error.message ?? error));
  });

  step('open');
  await page.goto(pageUrl);
  outcome.title = await page.title();

  step('connect');
  await page.fill('#node-id', env('NODE_ID'));
  await page.fill('#address', env('WS_ADDRESS'));
  await page.fill('#rune', env('RUNE'));
  await page.click('#connect');
  await page.waitForFunction(
    (id) => document.getElementById('info-id').textContent === id,
    env('NODE_ID'),
  );
  await page.waitForFunction(
    (id) => [...document.querySelectorAll('#peers .peer-id')].some((cell) => cell.textContent === id),
    env('PEER_ID'),
  );
  outcome.status = await page.textContent('#status');
  outcome.info = await page.evaluate(() => ({
    id: document.getElementById('info-id').textContent,
    alias: document.getElementById('info-alias').textContent,
    // The node's text as text: markup in it must not become elements.
    alias_elements: document.getElementById('info-alias').childElementCount,
    version: document.getElementById('info-version').textContent,
    num_peers: document.getElementById('info-num-peers').textContent,
    bindings: [...document.querySelectorAll('#info-bindings li')].map((li) => li.textContent),
  }));
  outcome.peers = await page.$$eval('#peers tbody tr', (rows) =>
    rows.map((row) => ({
      id: row.querySelector('.peer-id').textContent,
      this_console: row.cells[0].textContent.includes('(this console)'),
      connected: row.cells[1].textContent,
      features: row.cells[2].textContent,
    })),
  );
  outcome.errors_after_connect = await page.$eval('#error', (box) => (box.hidden ? null : box.textContent));

  step('send custom message');
  await page.fill('#msg-node-id', env('PEER_ID'));
  await page.fill('#msg-hex', env('MESSAGE'));
  await page.click('#send');
  await page.waitForFunction(() => document.getElementById('msg-result').textContent.startsWith('Sent'));
  outcome.sent = await page.textContent('#msg-result');
  await page.screenshot({ path: screenshot, fullPage: true });

  step('bad rune');
  await page.fill('#rune', env('BAD_RUNE'));
  await page.click('#connect');
  await page.waitForFunction(() => {
    const box = document.getElementById('error');
    return !box.hidden && box.querySelectorAll('.error-entry').length === 2;
  });
  outcome.bad_rune = await page.$$eval('#error .error-entry', (entries) =>
    entries.map((entry) => ({
      what: entry.querySelector('.error-what').firstChild.textContent,
      code: entry.querySelector('.error-code')?.textContent ?? null,
      message: entry.querySelector('.error-message').textContent,
    })),
  );
  outcome.bad_rune_info_hidden = await page.$eval('#info-section', (section) => section.hidden);
  await page.screenshot({ path: errorScreenshot, fullPage: true });
  step('done');
} catch (error) {
  outcome.failed = String(error?.stack ?? error);
  const page = context?.pages()[0];
  if (page) {
    outcome.page_text = await page.evaluate(() => document.body.innerText).catch(() => null);
    await page.screenshot({ path: screenshot.replace(/\.png$/, '-failed.png') }).catch(() => {});
  }
} finally {
  step('close');
  await context?.close().catch(() => {});
  server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  clearTimeout(watchdog);
}
finish(outcome.failed ? 1 : 0);
