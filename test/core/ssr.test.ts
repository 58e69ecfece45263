import { describe, expect, it } from 'vitest';

describe('server-side rendering safety', () => {
  it('imports relaycall/core in Node without window or navigator, and creates an idle client', async () => {
    expect('window' in globalThis).toBe(false);
    const core = await import('relaycall/core');
    const client = core.createRelayClient({ url: 'http://127.0.0.1:1' });
    expect(client.store.getState()).toMatchObject({ status: 'idle', calls: {} });
    expect(client.devices.store.getState().permissions).toEqual({
      microphone: 'unsupported',
      camera: 'unsupported',
    });
    client.destroy();
  });
});
