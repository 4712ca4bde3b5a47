// A page of scripts/report/page.ts opened in a real browser: Debian's headless Chromium,
// driven over the Chrome DevTools Protocol (CDP) with no npm package in between. The
// browser is started with --remote-debugging-pipe: it reads the protocol's JSON messages,
// each ended by a NUL byte, on its fd 3, and answers on its fd 4. No port, so nothing
// else on the machine can talk to it. What it is for: test/report/pages.test.ts looks at
// the pages as a person would, and the README's screenshot is taken with screenshotPage.
//   const page = await openPage('matrix.html', { width: 1200, height: 800 });
//   await page.evaluate<number>('document.querySelectorAll("td").length');
//   await page.screenshot('test-results/matrix.png', { fullPage: true });
//   await page.close();
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { TIME_SCALE } from '../../test/harness/sandbox.ts';

// chromium-headless-shell: the same engine as Debian's chromium, without its GTK user
// interface (a smaller install); chromium itself if only that is there. The first is
// the program itself: its /usr/bin/chromium-headless-shell is a shell script that runs
// it as a child, without exec, and adds nothing.
const BROWSERS = ['/usr/lib/chromium/chromium-headless-shell', '/usr/bin/chromium'];
const INSTALL = 'sudo apt-get install chromium-headless-shell fonts-vlgothic (Debian; Ubuntu ships Chromium as a snap only)';

const LOAD_TIMEOUT_MS = 15_000 * TIME_SCALE;
const CLOSE_TIMEOUT_MS = 5_000 * TIME_SCALE;

export interface Page {
  /** A JavaScript expression's value in the page (a JSON value: returned by value). */
  evaluate<T>(expression: string): Promise<T>;
  /** Every URL the page asked for, its own file:// URL left out: empty when no request left it. */
  readonly requests: string[];
  /** A PNG of the viewport, or of the whole page (`fullPage`: as wide and as tall as its content). */
  screenshot(pngFile: string, options?: { fullPage?: boolean; scale?: number }): Promise<void>;
  /** The browser closed, killed if it does not end, its profile removed. */
  close(): Promise<void>;
}

/** The first browser installed, or an error that says which package to install. */
function findBrowser(): string {
  const found = BROWSERS.find((path) => existsSync(path));
  if (!found) throw new Error(`no headless Chromium (${BROWSERS.join(' or ')}); install it: ${INSTALL}`);
  return found;
}

function browserFlags(profile: string): string[] {
  return [
    '--headless',
    // Chromium's sandbox refuses to start as root ("Running as root without --no-sandbox
    // is not supported"): the tests run as root. The page it opens is our own file.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-gpu',
    '--no-first-run',
    '--no-default-browser-check',
    `--user-data-dir=${profile}`, // a profile of its own, removed by close()
    '--remote-debugging-pipe',
    // Nothing on its own to the network: no updates, sync, pings, reports, translation...
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-breakpad',
    '--disable-domain-reliability',
    '--disable-client-side-phishing-detection',
    '--metrics-recording-only',
    '--no-pings',
    '--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider,AutofillServerCommunication,CertificateTransparencyComponentUpdater',
    // ...and, should anything try, no name resolves: a request is seen (Page.requests) but goes nowhere.
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--no-proxy-server',
    '--hide-scrollbars', // a screenshot shows the page, not the window's scroll bars
    '--mute-audio',
    'about:blank',
  ];
}

interface Message {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string; data?: string };
  sessionId?: string;
}

interface Waiting {
  method: string;
  resolve: (result: Record<string, unknown>) => void;
  reject: (error: Error) => void;
}

/** One browser process and its protocol pipe: commands sent, answers and events received. */
class Connection {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, Waiting>();
  private readonly listeners = new Set<(message: Message) => void>();
  private buffered = '';
  private stderr = '';
  private ended: Error | undefined;
  readonly exited: Promise<void>;

  constructor(child: ChildProcess) {
    this.child = child;
    const input = child.stdio[3] as Writable;
    const output = child.stdio[4] as Readable;
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => {
      const parts = (this.buffered + chunk).split('\0');
      this.buffered = parts.pop()!;
      for (const part of parts) this.receive(JSON.parse(part) as Message);
    });
    input.on('error', () => {}); // a browser gone: said by 'exit' below
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000); // the last lines, for a browser that dies
    });
    this.exited = new Promise((resolve) => {
      child.on('error', (error) => this.end(new Error(`chromium did not start: ${error.message}`), resolve));
      child.on('exit', (code, signal) => {
        const last = this.stderr.trim().split('\n').at(-1);
        const how = signal ? `killed by ${signal}` : `status ${code}`;
        this.end(new Error(`chromium ended (${how})${last ? `: ${last}` : ''}`), resolve);
      });
    });
  }

  private end(error: Error, resolve: () => void) {
    this.ended ??= error;
    for (const { method, reject } of this.pending.values()) reject(new Error(`${method}: ${error.message}`));
    this.pending.clear();
    resolve();
  }

  private receive(message: Message) {
    if (message.id === undefined) {
      for (const listener of this.listeners) listener(message);
      return;
    }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (message.error) {
      const data = message.error.data ? ` (${message.error.data})` : '';
      waiting.reject(new Error(`${waiting.method}: ${message.error.message}${data}`));
    } else waiting.resolve(message.result ?? {});
  }

  /** A command; its result, or an Error naming the method. */
  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    if (this.ended) return Promise.reject(new Error(`${method}: ${this.ended.message}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (result: Record<string, unknown>) => void, reject });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
    });
  }

  /** Every event from now on; returns the function that stops listening. */
  on(listener: (message: Message) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The browser and every process it started (its group: it was spawned detached). */
  kill() {
    if (this.child.pid === undefined) return; // never started
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // all gone already
    }
  }
}

/** `file` opened in a fresh headless Chromium, its viewport `width` × `height` CSS pixels, once it has loaded. */
export async function openPage(file: string, { width, height }: { width: number; height: number }): Promise<Page> {
  const browser = findBrowser();
  if (!existsSync(file)) throw new Error(`openPage: no file ${file}`);
  const url = pathToFileURL(resolve(file)).href;
  const profile = mkdtempSync(join(tmpdir(), 'cfs-browser-'));
  // detached: a process group of its own, so that a kill reaches its renderers too.
  const child = spawn(browser, browserFlags(profile), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], detached: true });
  const connection = new Connection(child);

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      if (connection.running) {
        const timer = setTimeout(() => connection.kill(), CLOSE_TIMEOUT_MS);
        await connection.send('Browser.close').catch(() => {}); // it may end before it answers
        await connection.exited;
        clearTimeout(timer);
      }
      connection.kill(); // anything of it left behind
      rmSync(profile, { recursive: true, force: true });
    })());

  try {
    const { targetId } = await connection.send<{ targetId: string }>('Target.createTarget', { url: 'about:blank' });
    const { sessionId } = await connection.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
    const send = <T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}) =>
      connection.send<T>(method, params, sessionId);
    const viewport = (w: number, h: number) =>
      send('Emulation.setDeviceMetricsOverride', { width: w, height: h, deviceScaleFactor: 1, mobile: false });

    const requests: string[] = [];
    connection.on((message) => {
      if (message.sessionId !== sessionId || message.method !== 'Network.requestWillBeSent') return;
      const asked = (message.params as { request: { url: string } }).request.url;
      if (asked !== url) requests.push(asked);
    });
    await send('Page.enable');
    await send('Network.enable');
    await viewport(width, height);

    let stopWaiting = () => {};
    const loaded = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`chromium: ${file} did not load within ${LOAD_TIMEOUT_MS / 1000} s`)),
        LOAD_TIMEOUT_MS,
      );
      const stop = connection.on((message) => {
        if (message.sessionId === sessionId && message.method === 'Page.loadEventFired') resolve();
      });
      connection.exited.then(() => reject(new Error(`chromium ended before ${file} loaded`)));
      stopWaiting = () => {
        clearTimeout(timer);
        stop();
      };
    });
    loaded.catch(() => {}); // awaited below; until then, a rejection is not unhandled
    try {
      const { errorText } = await send<{ errorText?: string }>('Page.navigate', { url });
      if (errorText) throw new Error(`Page.navigate: ${file}: ${errorText}`);
      await loaded;
    } finally {
      stopWaiting();
    }

    return {
      requests,
      close,
      async evaluate<T>(expression: string): Promise<T> {
        const { result, exceptionDetails } = await send<{
          result: { value?: T };
          exceptionDetails?: { text: string; exception?: { description?: string } };
        }>('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
        if (exceptionDetails) {
          const why = exceptionDetails.exception?.description?.split('\n')[0] ?? exceptionDetails.text;
          throw new Error(`Runtime.evaluate: ${why} (in: ${expression.slice(0, 80)})`);
        }
        return result.value as T;
      },
      async screenshot(pngFile: string, { fullPage = false, scale = 1 } = {}): Promise<void> {
        let size = { width, height };
        if (fullPage) {
          // The viewport made as large as the content (never narrower than asked), for the shot.
          const { cssContentSize } = await send<{ cssContentSize: { width: number; height: number } }>('Page.getLayoutMetrics');
          size = { width: Math.max(width, Math.ceil(cssContentSize.width)), height: Math.ceil(cssContentSize.height) };
          await viewport(size.width, size.height);
        }
        try {
          // scale < 1: fewer pixels for the same page (a small picture for the README)
          const clip = scale === 1 ? undefined : { x: 0, y: 0, ...size, scale };
          const { data } = await send<{ data: string }>('Page.captureScreenshot', { format: 'png', ...(clip && { clip }) });
          mkdirSync(dirname(resolve(pngFile)), { recursive: true });
          writeFileSync(pngFile, Buffer.from(data, 'base64'));
        } finally {
          if (fullPage) await viewport(width, height);
        }
      },
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `htmlFile` as a PNG, the whole page, `width` CSS pixels wide (wider if its content is):
 * the README's screenshot (`npm run matrix -- --html <f> --png <f.png>`).
 */
export async function screenshotPage(
  htmlFile: string,
  pngFile: string,
  { width, scale = 1 }: { width: number; scale?: number },
): Promise<void> {
  // A low viewport: the shot is as tall as the content, not as the window.
  const page = await openPage(htmlFile, { width, height: 100 });
  try {
    await page.screenshot(pngFile, { fullPage: true, scale });
  } finally {
    await page.close();
  }
}
