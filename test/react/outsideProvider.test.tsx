import { render, renderHook } from '@testing-library/react';
import {
  Dialer,
  MissingProviderError,
  useAssist,
  useAssists,
  useCall,
  useCallList,
  useDevices,
  useIncomingCall,
  useRelayClient,
  useToken,
} from 'relaycall';
import { describe, expect, it, vi } from 'vitest';

const hooks = {
  useRelayClient,
  useToken,
  useCall,
  useIncomingCall,
  useDevices,
  useCallList,
  useAssist: () => useAssist('a-call'),
  useAssists,
} as const;

describe('outside <RelayProvider>', () => {
  it.each(Object.entries(hooks))('%s throws one sentence naming the fix', (name, hook) => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined); // React reports the throw
    let thrown: unknown;
    try {
      renderHook(() => hook());
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MissingProviderError);
    expect(thrown).toMatchObject({
      code: 'missing_provider',
      hook: name,
      message: `${name} must be used inside <RelayProvider>: wrap your app in <RelayProvider fetchToken={…} url={…}>.`,
    });
  });

  it('the Dialer, built on the hooks, says the same', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(() => render(<Dialer />)).toThrow(/must be used inside <RelayProvider>/);
  });
});
