// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';

describe('server rendering', () => {
  // The first import of the whole package is transformed here: seconds on a loaded machine.
  it(
    'imports without window or navigator and renders the UI of a provider still connecting',
    { timeout: 30_000 },
    async () => {
      expect(typeof window).toBe('undefined');
      const { Dialer, RelayProvider, VideoTile } = await import('relaycall');
      const html = renderToString(
        <RelayProvider url="http://relay.invalid" fetchToken={() => Promise.reject(new Error('x'))}>
          <Dialer />
          <VideoTile stream={null} label="Alice Smith" />
        </RelayProvider>,
      );
      expect(html).toContain('class="relaycall-dialer"');
      expect(html).toContain('Connecting…');
      expect(html).toContain('>AS<');
    },
  );
});
