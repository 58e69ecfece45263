/** Call quality without WebRTC: the MOS formula, the hysteresis, the stats reading, the sampling. */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import {
  estimateMos,
  type CallStats,
  type QualityState,
  type QualityWarningEvent,
} from 'relaycall/core';
import { ManualClock } from 'relaycall/testing';
import { initialState } from '../../src/core/clientOptions.js';
import { newCallSnapshot } from '../../src/core/calls/newCallSnapshot.js';
import { QualityWarnings } from '../../src/core/stats/QualityWarnings.js';
import { readStats, toCallStats } from '../../src/core/stats/readCallStats.js';
import { StatsManager } from '../../src/core/stats/StatsManager.js';

describe('estimateMos (simplified E-model)', () => {
  it('scores a perfect connection about 4.4 and worse ones lower', () => {
    // L = 10 ms, Id = 0.25, R = 92.95.
    expect(estimateMos(0, 0, 0)).toBeCloseTo(4.4, 2);
    expect(estimateMos(100, 5, 0)).toBeLessThan(estimateMos(20, 5, 0));
    expect(estimateMos(100, 40, 0)).toBeLessThan(estimateMos(100, 5, 0));
    expect(estimateMos(100, 5, 0.05)).toBeLessThan(estimateMos(100, 5, 0.01));
  });

  it('follows the formula on both sides of the 160 ms knee', () => {
    const mos = (r: number) => 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
    // rtt 200, jitter 10: L = 100 + 20 + 10 = 130 < 160: Id = 3.25; loss 2 %: Ie = 5.
    expect(estimateMos(200, 10, 0.02)).toBeCloseTo(mos(93.2 - 3.25 - 5), 2);
    // rtt 600, jitter 20: L = 300 + 40 + 10 = 350: Id = 23.
    expect(estimateMos(600, 20, 0)).toBeCloseTo(mos(93.2 - 23), 2);
  });

  it('stays within 1 and 4.5', () => {
    expect(estimateMos(5000, 500, 1)).toBe(1);
    expect(estimateMos(-5, -5, -1)).toBeLessThanOrEqual(4.5);
  });
});

const sample = (patch: Partial<CallStats>, at = 0): CallStats => ({
  at,
  rttMs: 20,
  jitterMs: 2,
  packetLossIn: 0,
  packetLossOut: 0,
  bitrateIn: 500_000,
  bitrateOut: 500_000,
  videoIn: null,
  videoOut: null,
  audioLevelIn: 0.1,
  audioLevelOut: 0.1,
  mos: 4.4,
  networkQuality: 'excellent',
  ...patch,
});

const source = { callId: 'c1', room: null, participantId: null };

describe('QualityWarnings (hysteresis)', () => {
  it('raises after N samples past the raise threshold, clears after M past the clear one', () => {
    const warnings = new QualityWarnings(source, { raiseAfter: 3, clearAfter: 2 });
    const feed = (rttMs: number, at: number) =>
      warnings.update(sample({ rttMs }, at), true).map((e) => `${e.type} ${e.warning.kind}`);
    expect(feed(500, 1)).toEqual([]);
    expect(feed(500, 2)).toEqual([]);
    expect(feed(100, 3)).toEqual([]); // a good sample starts the count over
    expect(feed(500, 4)).toEqual([]);
    expect(feed(500, 5)).toEqual([]);
    expect(feed(450, 6)).toEqual(['raised high-rtt']);
    expect(warnings.active).toMatchObject([
      { kind: 'high-rtt', callId: 'c1', value: 450, threshold: 400, since: 6 },
    ]);
    // Under the raise threshold but above the clear one: still raised.
    for (let at = 7; at < 12; at++) expect(feed(350, at)).toEqual([]);
    expect(feed(250, 12)).toEqual([]);
    expect(feed(350, 13)).toEqual([]); // back between: the clear count starts over
    expect(feed(250, 14)).toEqual([]);
    expect(feed(250, 15)).toEqual(['cleared high-rtt']);
    expect(warnings.active).toEqual([]);
  });

  it('judges low figures (MOS, bitrate, microphone) below their thresholds', () => {
    const warnings = new QualityWarnings(source, {
      raiseAfter: 1,
      clearAfter: 1,
      thresholds: { mos: { raise: 3, clear: 3.5 } },
    });
    const events = warnings.update(
      sample({ mos: 2.9, bitrateIn: 1000, audioLevelOut: 0, jitterMs: 50, packetLossOut: 0.1 }),
      true,
    );
    expect(events.map((e) => e.warning.kind).sort()).toEqual([
      'high-jitter',
      'high-packet-loss',
      'low-bitrate-in',
      'low-mos',
      'silent-microphone',
    ]);
    expect(warnings.update(sample({ mos: 3.2 }), true).map((e) => e.warning.kind)).toEqual([
      'high-jitter',
      'high-packet-loss',
      'low-bitrate-in',
      'silent-microphone',
    ]);
    expect(warnings.active.map((w) => w.kind)).toEqual(['low-mos']);
  });

  it('counts a figure it cannot measure (no media expected, microphone muted) toward clearing', () => {
    const warnings = new QualityWarnings(source, { raiseAfter: 2, clearAfter: 2 });
    warnings.update(sample({ bitrateIn: 0, audioLevelOut: 0 }), true);
    warnings.update(sample({ bitrateIn: 0, audioLevelOut: 0 }), true);
    expect(warnings.active.map((w) => w.kind).sort()).toEqual([
      'low-bitrate-in',
      'silent-microphone',
    ]);
    // On hold (nothing expected) and muted (no level): both clear, never raise.
    warnings.update(sample({ bitrateIn: 0, audioLevelOut: null }), false);
    const events = warnings.update(sample({ bitrateIn: 0, audioLevelOut: null }), false);
    expect(events.map((e) => e.type)).toEqual(['cleared', 'cleared']);
    for (let i = 0; i < 5; i++)
      warnings.update(sample({ bitrateIn: 0, audioLevelOut: null }), false);
    expect(warnings.active).toEqual([]);
  });
});

/** A synthetic getStats() report, as Chromium shapes it. */
function report(
  t: number,
  counters: { bytes: number; packets: number; lost: number; energy: number },
) {
  const entries = [
    { id: 'T', type: 'transport', timestamp: t, selectedCandidatePairId: 'CP' },
    { id: 'CP', type: 'candidate-pair', timestamp: t, currentRoundTripTime: 0.05, nominated: true },
    {
      id: 'IA',
      type: 'inbound-rtp',
      kind: 'audio',
      timestamp: t,
      bytesReceived: counters.bytes,
      headerBytesReceived: 0,
      packetsReceived: counters.packets,
      packetsLost: counters.lost,
      jitter: 0.004,
      totalAudioEnergy: counters.energy,
      totalSamplesDuration: t / 1000,
    },
    {
      id: 'IV',
      type: 'inbound-rtp',
      kind: 'video',
      timestamp: t,
      bytesReceived: counters.bytes,
      packetsReceived: counters.packets,
      packetsLost: 0,
      jitter: 0.01,
      frameWidth: 640,
      frameHeight: 480,
      framesPerSecond: 30,
    },
    {
      id: 'OA',
      type: 'outbound-rtp',
      kind: 'audio',
      timestamp: t,
      bytesSent: counters.bytes,
      packetsSent: counters.packets,
    },
    {
      id: 'MA',
      type: 'media-source',
      kind: 'audio',
      timestamp: t,
      totalAudioEnergy: counters.energy,
      totalSamplesDuration: t / 1000,
    },
    {
      id: 'RA',
      type: 'remote-inbound-rtp',
      kind: 'audio',
      timestamp: t,
      fractionLost: 0.01,
      roundTripTime: 0.06,
    },
  ];
  return new Map(entries.map((e) => [e.id, e]));
}

describe('readStats and toCallStats', () => {
  it('turns two reports into rates, loss, jitter, RTT, video, levels and a MOS', () => {
    const before = readStats(report(1000, { bytes: 0, packets: 0, lost: 0, energy: 0 }));
    const after = readStats(report(2000, { bytes: 12_500, packets: 95, lost: 5, energy: 0.01 }));
    const stats = toCallStats(before, after, {
      at: 42,
      expectsMedia: true,
      microphoneOn: true,
      down: false,
    });
    expect(stats).toMatchObject({
      at: 42,
      rttMs: 50,
      jitterMs: 4,
      bitrateOut: 100_000,
      bitrateIn: 200_000, // audio and video
      packetLossOut: 0.01,
      videoIn: { width: 640, height: 480, frameRate: 30 },
      videoOut: null,
      audioLevelIn: 0.1,
      audioLevelOut: 0.1,
      networkQuality: 'excellent',
    });
    // 5 lost, 95 received in the audio and 95 in the video.
    expect(stats.packetLossIn).toBeCloseTo(5 / 195, 5);
    expect(stats.mos).toBe(estimateMos(50, 4, stats.packetLossIn!));
  });

  it('is lost when nothing arrives while media is expected, or the connection is down', () => {
    const a = readStats(report(1000, { bytes: 10, packets: 10, lost: 0, energy: 0 }));
    const b = readStats(report(2000, { bytes: 10, packets: 10, lost: 0, energy: 0 }));
    const context = { at: 0, expectsMedia: true, microphoneOn: false, down: false };
    expect(toCallStats(a, b, context)).toMatchObject({
      networkQuality: 'lost',
      audioLevelOut: null,
    });
    expect(toCallStats(a, b, { ...context, expectsMedia: false }).networkQuality).toBe('excellent');
  });
});

describe('StatsManager', () => {
  it('samples on the injected clock while watched and stops with the last watcher or the call', async () => {
    const clock = new ManualClock();
    const client = createStore(() => initialState({ url: 'ws://unused' }));
    const call = { ...newCallSnapshot('c1', 'outgoing', 'bob', null), state: 'active' as const };
    client.setState({ calls: { c1: call } });
    const quality = createStore<QualityState>(() => ({ calls: {}, rooms: {}, warnings: [] }));
    let t = 0;
    let reads = 0;
    const pc = {
      connectionState: 'connected',
      getSenders: () => [],
      getStats: async () => {
        reads += 1;
        t += 1000;
        // From the third read on, the link stops: nothing new arrives.
        const bytes = Math.min(t, 2000) * 10;
        return report(t, { bytes, packets: bytes / 100, lost: 0, energy: 0 });
      },
    } as unknown as RTCPeerConnection;
    const events: QualityWarningEvent[] = [];
    const manager = new StatsManager({
      clock,
      client,
      quality,
      options: { intervalMs: 500, raiseAfter: 2, clearAfter: 2 },
      callConnection: (id) => (id === 'c1' ? pc : null),
      roomConnections: () => new Map(),
      emit: (event) => events.push(event),
    });
    const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

    const unwatch = manager.watch('call', 'c1');
    const again = manager.watch('call', 'c1'); // a second watcher shares the sampling
    await settle();
    expect(reads).toBe(1); // the baseline: no sample yet
    expect(quality.getState().calls.c1).toBeUndefined();
    clock.advance(500);
    await settle();
    expect(quality.getState().calls.c1).toMatchObject({
      bitrateIn: 160_000,
      networkQuality: 'excellent',
    });
    clock.advance(500);
    await settle();
    clock.advance(500);
    await settle();
    expect(events.map((e) => `${e.type} ${e.warning.kind}`)).toEqual(['raised low-bitrate-in']);
    expect(quality.getState().warnings).toMatchObject([{ kind: 'low-bitrate-in', callId: 'c1' }]);
    expect(quality.getState().calls.c1?.networkQuality).toBe('lost');

    unwatch();
    expect(clock.pending()).toHaveLength(1); // the other watcher keeps it going
    again();
    expect(clock.pending()).toEqual([]);
    expect(quality.getState()).toEqual({ calls: {}, rooms: {}, warnings: [] });

    // A call that ends stops its sampling at the next tick.
    manager.watch('call', 'c1');
    await settle();
    client.setState({ calls: { c1: { ...call, state: 'ended' } } });
    clock.advance(500);
    await settle();
    expect(clock.pending()).toEqual([]);
    manager.destroy();
  });
});
