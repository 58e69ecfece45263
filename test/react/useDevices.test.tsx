import { act, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { RelayProvider, useDevices } from 'relaycall';
import { describe, expect, it } from 'vitest';
import { relayUrl, tokenFetcher, uniqueResource } from './helpers.js';

describe('useDevices', () => {
  it('reports capture as unsupported where there is no navigator.mediaDevices (jsdom)', async () => {
    const { fetchToken } = tokenFetcher(uniqueResource('alice'));
    const wrapper = ({ children }: { children: ReactNode }) => (
      <RelayProvider url={relayUrl} fetchToken={fetchToken}>
        {children}
      </RelayProvider>
    );
    const { result } = renderHook(() => useDevices(), { wrapper });
    expect(result.current).toMatchObject({
      audioInputs: [],
      videoInputs: [],
      audioOutputs: [],
      permissions: { microphone: 'unsupported', camera: 'unsupported' },
    });
    await act(() => result.current.refresh());
    let failure: unknown;
    await act(() =>
      result.current.requestPermission().catch((error: unknown) => (failure = error)),
    );
    expect(failure).toMatchObject({ name: 'RelayMediaError', code: 'media_failed' });
    await waitFor(() => expect(result.current.error).toMatchObject({ code: 'media_failed' }));
  });
});
