import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import { packageRoot } from '../common/package-root';

/** Where the web console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The console runs only its own bundled script and styles, and talks only to this origin: no
 * inline script or style, no eval, no frames, no form posts elsewhere. Bootstrap's form
 * controls draw their icons from data: SVG images.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONSOLE_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** Whether a request path is the console's. */
export function isConsolePath(url: string): boolean {
  return url === CONSOLE_PATH || url.startsWith(CONSOLE_PATH + '/') || url.startsWith(CONSOLE_PATH + '?');
}

/**
 * The web console's files, as `npm run build` leaves them in dist/console/: read once at start
 * and served from memory under /console/. The console is a client of the public API like any
 * other (it signs its requests in the browser), so serving it needs no state and no
 * authentication; a service built without it answers 404 there.
 */
export class ConsoleAssets {
  private constructor(private readonly files: ReadonlyMap<string, Asset>) {}

  static load(dir = path.join(packageRoot(), 'dist', 'console')): ConsoleAssets {
    const files = new Map<string, Asset>();
    if (fs.existsSync(dir)) {
      for (const name of fs.readdirSync(dir)) {
        const type = TYPES[path.extname(name)];
        if (!type) continue;
        const body = fs.readFileSync(path.join(dir, name));
        files.set(name, { body, type, etag: `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` });
      }
    }
    return new ConsoleAssets(files);
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const p = q < 0 ? url : url.slice(0, q);
    if (req.method !== 'GET' && req.method !== 'HEAD') return this.plain(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    if (p === CONSOLE_PATH) return this.plain(res, 308, 'moved', { Location: CONSOLE_PATH + '/' });
    const name = p === CONSOLE_PATH + '/' ? 'index.html' : p.slice(CONSOLE_PATH.length + 1);
    const asset = this.files.get(name);
    if (!asset) return this.plain(res, 404, this.files.size ? 'not found' : 'the console is not built: run npm run build');
    // Revalidated on every load, so that a new build is picked up at once.
    const headers = { ...SECURITY_HEADERS, 'Cache-Control': 'no-cache', ETag: asset.etag };
    if (req.headers['if-none-match'] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, 'Content-Type': asset.type, 'Content-Length': asset.body.length });
    res.end(req.method === 'HEAD' ? undefined : asset.body);
  }

  private plain(res: ServerResponse, status: number, text: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { ...SECURITY_HEADERS, ...extra, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }
}
