import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const core = fileURLToPath(new URL('../../src/core/index.ts', import.meta.url));

/**
 * Bundles a bench page script (`entry`, importing `relaycall/core` from source) with esbuild in
 * memory and serves it as /main.js beside `html` at / on a loopback port.
 */
export async function servePage(entry, html) {
  const bundle = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    alias: { 'relaycall/core': core },
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'silent',
  });
  const files = {
    '/': { type: 'text/html', body: html },
    '/main.js': { type: 'text/javascript', body: Buffer.from(bundle.outputFiles[0].contents) },
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page').pathname;
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    const file = files[path];
    if (!file) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': file.type, 'Cache-Control': 'no-store' }).end(file.body);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
