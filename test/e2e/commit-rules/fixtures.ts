/**
 * Helpers shared by the answer-styles, bad-input and commit-rules e2e suites. Not a spec file.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { MemoryStore } from '../../../src/index.js';
import { readSessionData } from '../../../src/testing/index.js';
import { SECRET, setCookies } from '../../support/session-app.js';

export type StoreOp = 'read' | 'write' | 'update' | 'remove' | 'touch';

/**
 * A real MemoryStore that counts every call and can be told to fail one kind of operation,
 * as a store whose backend is down would.
 */
export class SpyStore extends MemoryStore {
  readonly calls: Record<StoreOp, number> = { read: 0, write: 0, update: 0, remove: 0, touch: 0 };
  /** Operations that fail every time. */
  readonly failing = new Set<StoreOp>();
  /** Operations whose next call only fails (a transient error). */
  readonly failingOnce = new Set<StoreOp>();

  private enter(op: StoreOp): void {
    this.calls[op]++;
    if (this.failingOnce.delete(op) || this.failing.has(op)) throw new Error(`backend ${op} refused: connection reset`);
  }
  override async read(id: string) {
    this.enter('read');
    return super.read(id);
  }
  override async write(id: string, data: Uint8Array, lifetime: number, ttl: number) {
    this.enter('write');
    return super.write(id, data, lifetime, ttl);
  }
  override async update(id: string, data: Uint8Array, lifetime: number, ttl: number) {
    this.enter('update');
    // Not through super.update: it calls this.write, which would count (and fail) as a write.
    if (!(await MemoryStore.prototype.read.call(this, id))) return null;
    return MemoryStore.prototype.write.call(this, id, data, lifetime, ttl);
  }
  override async remove(id: string) {
    this.enter('remove');
    return super.remove(id);
  }
  override async touch(id: string, ttl: number) {
    this.enter('touch');
    return super.touch(id, ttl);
  }
  /** write + update + touch: every call that persists something. */
  persistingCalls(): number {
    return this.calls.write + this.calls.update + this.calls.touch;
  }
  resetCalls(): void {
    for (const op of Object.keys(this.calls) as StoreOp[]) this.calls[op] = 0;
    this.failing.clear();
    this.failingOnce.clear();
  }
}

/**
 * The user data a store holds for `id` (decoded from the record), or null. Reads through
 * MemoryStore itself, so a SpyStore's counters and failure switches are not involved.
 */
export async function stored(store: MemoryStore, id: string | undefined): Promise<Record<string, unknown> | null> {
  if (id === undefined) throw new Error('no session id to look up');
  // A plain MemoryStore view of the same entries: no counters, no failure switches.
  const view = { read: (key: string) => MemoryStore.prototype.read.call(store, key), write: () => Promise.resolve(''), remove: () => Promise.resolve() };
  return readSessionData(view as unknown as MemoryStore, id);
}

/** `<id>.<base64url HMAC-SHA256(id)>`, as the module signs a cookie value. */
export function sign(id: string, secret: string = SECRET): string {
  return `${id}.${createHmac('sha256', secret).update(id).digest('base64url')}`;
}

/** The `sid` Set-Cookie lines of a response. */
export function sidLines(res: { headers: Record<string, unknown> }, name = 'sid'): string[] {
  return setCookies(res).filter((line) => line.startsWith(`${name}=`));
}

/** Parses one Set-Cookie line: value plus lower-cased attribute names (flags map to true). */
export function parseSetCookie(line: string): { name: string; value: string; attrs: Record<string, string | true> } {
  const [pair, ...rest] = line.split(';');
  const eq = pair.indexOf('=');
  const attrs: Record<string, string | true> = {};
  for (const part of rest) {
    const trimmed = part.trim();
    if (!trimmed) continue;
    const i = trimmed.indexOf('=');
    if (i === -1) attrs[trimmed.toLowerCase()] = true;
    else attrs[trimmed.slice(0, i).toLowerCase()] = trimmed.slice(i + 1);
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attrs };
}

/** Makes the app listen on an ephemeral port (both platforms); returns the port. */
export { listen } from '../../support/session-app.js';

/**
 * Sends a GET and resolves with the status and headers as soon as the head arrives (or, with
 * `until`, once the body received so far matches it), then aborts: for responses that never end
 * (event streams).
 */
export function headOnly(port: number, path: string, headers: Record<string, string> = {}, until?: RegExp) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
        if (until && !until.test(body)) return;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        req.destroy();
      });
    });
    req.on('error', (error) => {
      if ((error as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(error);
    });
    req.end();
  });
}

/**
 * Sends raw request bytes over a socket (for header values Node's client refuses to send,
 * such as UTF-8 bytes) and returns the status line and Set-Cookie values.
 */
export function rawGet(port: number, path: string, headerBytes: Buffer) {
  return new Promise<{ status: number; setCookies: string[]; text: string }>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        Buffer.concat([
          Buffer.from(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n`, 'latin1'),
          headerBytes,
          Buffer.from('\r\n\r\n', 'latin1'),
        ]),
      );
    });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const head = text.slice(0, text.indexOf('\r\n\r\n'));
      const lines = head.split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const cookies = lines.filter((l) => /^set-cookie:/i.test(l)).map((l) => l.slice(l.indexOf(':') + 1).trim());
      resolve({ status, setCookies: cookies, text });
    });
  });
}

/** A promise with its resolve function exposed, to hold a handler at a chosen point. */
export function gate<T = void>() {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}
