import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { build, createServer, type ViteDevServer } from 'vite';
import { relaycall } from 'relaycall/vite';
import { TestClient } from '../server/helpers.js';
import { RESET_MOMENTS, resetDuringUpgrade, upgradeRequest } from '../server/rawHttp.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function project(): string {
  const root = mkdtempSync(join(tmpdir(), 'relaycall-vite-'));
  writeFileSync(
    join(root, 'index.html'),
    '<!doctype html><script type="module" src="/main.js"></script>',
  );
  writeFileSync(join(root, 'main.js'), 'document.title = "app";');
  cleanups.push(() => rmSync(root, { recursive: true, force: true }));
  return root;
}

async function devServer(
  mode?: string,
  options?: Parameters<typeof relaycall>[0],
): Promise<{ server: ViteDevServer; url: string }> {
  const server = await createServer({
    root: project(),
    configFile: false,
    logLevel: 'silent',
    mode,
    plugins: [relaycall(options)],
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
  });
  await server.listen();
  cleanups.push(() => server.close());
  const address = server.httpServer?.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}` };
}

describe('relaycall/vite', () => {
  it('mounts a Relay and a dev token endpoint on the dev server, beside the app', async () => {
    const { url } = await devServer();
    const page = await fetch(`${url}/`);
    expect(await page.text()).toContain('main.js');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const response = await fetch(`${url}/api/relaycall/dev-token?resource=alice`);
    expect(response.status).toBe(200);
    const { token } = (await response.json()) as { token: string };
    const socket = await TestClient.open(`${url.replace(/^http/, 'ws')}/api/relay/ws`);
    cleanups.push(() => void socket.ws.terminate());
    const result = await socket.call('relay.connect', { project: 'dev', token });
    expect(result).toMatchObject({ resource: 'alice', scopes: ['calls:dial', 'calls:receive'] });
  });

  it('mounts on the host HTTP server in middleware mode, as Storybook runs Vite', async () => {
    const http = createHttpServer();
    const server = await createServer({
      root: project(),
      configFile: false,
      logLevel: 'silent',
      appType: 'custom',
      plugins: [relaycall()],
      // What @storybook/builder-vite passes: no server of Vite's own, the host's for HMR.
      server: { middlewareMode: true, hmr: { server: http } },
    });
    cleanups.push(() => server.close());
    http.on('request', server.middlewares);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          http.closeAllConnections();
          http.close(() => resolve());
        }),
    );
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;

    const response = await fetch(`${url}/api/relaycall/dev-token?resource=carol`);
    const { token } = (await response.json()) as { token: string };
    const socket = await TestClient.open(`${url.replace(/^http/, 'ws')}/api/relay/ws`);
    cleanups.push(() => void socket.ws.terminate());
    const result = await socket.call('relay.connect', { project: 'dev', token });
    expect(result).toMatchObject({ resource: 'carol' });
  });

  it('honours the scopes asked for', async () => {
    const { url } = await devServer();
    const response = await fetch(
      `${url}/api/relaycall/dev-token?resource=bob&scopes=calls:receive`,
    );
    const { token } = (await response.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString());
    expect(claims).toMatchObject({ resource: 'bob', scopes: ['calls:receive'], sub: 'dev' });
  });

  it('survives clients resetting their connection as the Relay refuses their upgrade', async () => {
    // A refusal written to an upgrade's socket, then reset, used to raise an unhandled 'error'.
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', onUncaught);
    cleanups.push(() => void process.off('uncaughtException', onUncaught));
    const { url } = await devServer(undefined, {
      relay: { allowedOrigins: ['https://app.example'] },
    });
    const request = upgradeRequest({ origin: 'https://evil.example' });
    for (let i = 0; i < 10; i++) {
      for (const moment of RESET_MOMENTS) await resetDuringUpgrade(url, request, moment);
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(uncaught).toEqual([]);
  });

  it('refuses a dev server in production mode', async () => {
    await expect(devServer('production')).rejects.toThrow(/must not run in production/);
  });

  it('is left out of a production build', async () => {
    const root = project();
    let applied: string[] = [];
    const output = await build({
      root,
      configFile: false,
      logLevel: 'silent',
      plugins: [
        relaycall(),
        {
          name: 'probe',
          configResolved: (config) => void (applied = config.plugins.map((p) => p.name)),
        },
      ],
      build: { outDir: join(root, 'dist') },
    });
    expect(applied).toContain('probe');
    expect(applied).not.toContain('relaycall');
    const files = ('output' in output ? output.output : []).map((item) => item.fileName);
    expect(files.some((file) => file.endsWith('.js'))).toBe(true);
  });
});
