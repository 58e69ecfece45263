/**
 * ICE restarts of gateway calls, Relay side (issue 17): the browser's restart offer
 * (`call.signal {type: 'offer', sdp, restart: true}`) goes to Janus's SIP plugin as an `update`,
 * which restarts Janus's ICE and re-INVITEs the far end; Janus's answer comes back as
 * `call.signal {type: 'answer', sdp}`. Against a real Janus and sipp, with SDP written by hand
 * (Node has no WebRTC, so ICE never connects here: the media side is tested in Chromium,
 * test/browser/sipIceRestart.test.ts). Runs inside scripts/loopback.sh.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed, vi } from 'vitest';
import { systemClock } from '../../src/server/clock.js';
import {
  sippScenario,
  startJanus,
  startSipp,
  type TestJanus,
  type TestSipp,
} from 'relaycall/testing';
import { OTHER_PROJECT, startRelay, until, type TestClient, type TestRelay } from './helpers.js';

const SCOPES = ['calls:dial', 'calls:receive', 'calls:sip'];
const FINGERPRINT = Array.from({ length: 32 }, (_, i) => (i + 16).toString(16)).join(':');

/** A browser-like SDP (audio: Opus, PCMU, telephone-event) with ICE credentials `ufrag`. */
function sdp(ufrag: string, setup: 'actpass' | 'active', mid = '0', payloads = '111 0 101') {
  return [
    'v=0',
    'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    `a=group:BUNDLE ${mid}`,
    'a=msid-semantic: WMS',
    `m=audio 9 UDP/TLS/RTP/SAVPF ${payloads}`,
    'c=IN IP4 0.0.0.0',
    'a=rtcp:9 IN IP4 0.0.0.0',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${ufrag}icepasswordicepassword`,
    'a=ice-options:trickle',
    `a=fingerprint:sha-256 ${FINGERPRINT}`,
    `a=setup:${setup}`,
    `a=mid:${mid}`,
    'a=sendrecv',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=rtpmap:0 PCMU/8000',
    'a=rtpmap:101 telephone-event/8000',
    'a=ssrc:1000 cname:node',
    '',
  ].join('\r\n');
}

const ufragOf = (text: string) => /a=ice-ufrag:(\S+)/.exec(text)?.[1];

vi.setConfig({ testTimeout: 30_000 });

let janus: TestJanus;
let relay: TestRelay;
/** The registrar of project globex's trunk, where the Relay registers to receive calls. */
let registrar: TestSipp;
const sipps: TestSipp[] = [];

beforeAll(async () => {
  [janus, registrar] = await Promise.all([
    startJanus({ plugins: ['sip'], logLevel: 4 }),
    startSipp({ scenario: sippScenario('registrar'), calls: 100 }),
  ]);
  relay = await startRelay({
    clock: systemClock as never,
    janus: { url: janus.url, secret: janus.secret },
    sip: {
      trunks: {
        acme: {
          proxy: 'sip:10.77.0.2:5999',
          domain: 'trunk.example',
          numbers: ['+15550001111'],
          sipDomains: ['10.77.0.2'],
        },
        [OTHER_PROJECT.id]: {
          proxy: `sip:${registrar.address}`,
          username: 'relay',
          password: 'registrar-password',
          numbers: ['+15551230000'],
          routes: { '+15551230000': 'alice' },
          ringTimeoutMs: 10_000,
        },
      },
    },
  });
  await until('the gateway is up and registered', async () => {
    const stats = relay.relay.stats() as { sip?: { available: boolean } };
    return stats.sip?.available === true && registrar.snapshot().contacts.length > 0;
  });
}, 60_000);

afterEach(async () => {
  for (const sipp of sipps.splice(0)) await sipp.stop();
});

afterAll(async () => {
  await relay?.close();
  await registrar?.stop();
  await janus?.stop();
});

async function far(scenario: string, options: Parameters<typeof startSipp>[0] | object = {}) {
  const sipp = await startSipp({ scenario: sippScenario(scenario), ...options });
  sipps.push(sipp);
  onTestFailed(() => {
    console.log(`sipp ${scenario} messages:\n${sipp.messages()}`);
    const log = join(janus.dir, 'janus.log');
    if (existsSync(log)) {
      console.log(`janus.log:\n${readFileSync(log, 'utf8').split('\n').slice(-60).join('\n')}`);
    }
  });
  return sipp;
}

/** Each step has its own deadline, well inside the test's, naming what it waited for. */
function within<T>(promise: Promise<T>, what: () => string, ms = 12_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Timed out after ${ms} ms waiting for ${what()}`)),
      ms,
    );
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

const event = (client: TestClient, method: string, callId: string) =>
  within(
    client.next(method, (p) => p.callId === callId),
    () => `${method} of ${callId}; got: ${client.notifications.map((n) => n.method).join(', ')}`,
  );

/** The INVITEs (by CSeq, retransmissions aside) a sipp received so far. */
function invitesReceived(sipp: TestSipp): number {
  const cseqs = new Set<string>();
  for (const block of sipp.messages().split(/^-{20,}.*$/m)) {
    if (!/message received/.test(block) || !/^INVITE sip:/m.test(block)) continue;
    cseqs.add(/^CSeq:\s*(\d+)/im.exec(block)?.[1] ?? block);
  }
  return cseqs.size;
}

const restart = (client: TestClient, callId: string, ufrag: string) =>
  client.call('call.signal', {
    callId,
    signal: { type: 'offer', sdp: sdp(ufrag, 'actpass'), restart: true },
  });

/** alice calls sipp's uas-echo and it answers: the call id and Janus's first answer. */
async function answeredCall(alice: TestClient, uas: TestSipp) {
  const { callId } = (await alice.call('call.invite', { to: `sip:echo@${uas.address}` })) as {
    callId: string;
  };
  await alice.call('call.signal', {
    callId,
    signal: { type: 'offer', sdp: sdp('first', 'actpass') },
  });
  const answer = (await event(alice, 'call.signal', callId)).signal as {
    type: string;
    sdp: string;
  };
  await event(alice, 'call.answered', callId);
  return { callId, answer };
}

describe('ICE restarts of gateway calls', () => {
  it('sends a restart offer as a re-INVITE and returns the gateway answer', async () => {
    const uas = await far('uas-echo');
    const alice = await relay.connect('r1', { scopes: SCOPES });
    const { callId, answer } = await answeredCall(alice, uas);
    expect(answer.type).toBe('answer');

    await restart(alice, callId, 'second');
    const again = (await event(alice, 'call.signal', callId)).signal as Record<string, unknown>;
    expect(again).toEqual({ type: 'answer', sdp: expect.stringContaining('a=fingerprint:') });
    // Janus restarted its ICE: new credentials of its own.
    expect(ufragOf(again.sdp as string)).not.toBe(ufragOf(answer.sdp));
    await within(
      until('the re-INVITE at the far end', async () => invitesReceived(uas) === 2),
      () => uas.messages(),
    );
    expect(alice.notifications.filter((n) => n.method === 'call.ended')).toEqual([]);

    await alice.call('call.hangup', { callId });
    const result = await within(uas.exited, () => 'sipp to exit');
    expect(result.code).toBe(0);
    expect(result.messages).toMatch(/^BYE sip:/m);
  });

  it('takes the same offer twice (a browser that got no answer yet): the call goes on', async () => {
    const uas = await far('uas-echo');
    const alice = await relay.connect('r2', { scopes: SCOPES });
    const { callId } = await answeredCall(alice, uas);

    await Promise.all([restart(alice, callId, 'again'), restart(alice, callId, 'again')]);
    const answer = (await event(alice, 'call.signal', callId)).signal as { sdp: string };
    expect(answer.sdp).toContain('a=ice-ufrag:');
    // A later, new restart still gets its answer: the leg is not stuck.
    await restart(alice, callId, 'third');
    await within(
      (async () => {
        for (;;) {
          const next = (await event(alice, 'call.signal', callId)).signal as { sdp: string };
          if (ufragOf(next.sdp) !== ufragOf(answer.sdp)) return;
        }
      })(),
      () => 'the answer to the third restart',
    );
    expect(alice.notifications.filter((n) => n.method === 'call.ended')).toEqual([]);
    await alice.call('call.hangup', { callId });
    expect((await within(uas.exited, () => 'sipp to exit')).code).toBe(0);
  });

  it('drops a restart offer before the call is answered (no re-INVITE, no error)', async () => {
    const uas = await far('uas-noanswer');
    const alice = await relay.connect('r3', { scopes: SCOPES });
    const { callId } = (await alice.call('call.invite', { to: `sip:ring@${uas.address}` })) as {
      callId: string;
    };
    await alice.call('call.signal', {
      callId,
      signal: { type: 'offer', sdp: sdp('ring', 'actpass') },
    });
    await event(alice, 'call.ringing', callId);
    await restart(alice, callId, 'early');
    await alice.call('call.hangup', { callId });
    const result = await within(uas.exited, () => 'sipp to exit');
    expect(result.code).toBe(0);
    expect(invitesReceived(uas)).toBe(1);
    expect(alice.notifications.filter((n) => n.method === 'call.signal')).toEqual([]);
  });

  it('restarts an answered incoming call: the browser offers, the caller gets a re-INVITE', async () => {
    const alice = await relay.connect('alice', { project: OTHER_PROJECT, scopes: SCOPES });
    const caller = await far('uac-inbound', {
      remote: registrar.snapshot().contacts[0],
      service: '+15551230000',
      vars: { hold_ms: 8000 },
    });
    const ring = await within(alice.next('call.incoming'), () => 'the incoming call');
    const callId = String(ring.callId);
    await alice.call('call.answer', { callId });
    const gatewayOffer = (await event(alice, 'call.signal', callId)).signal as { sdp: string };
    const mid = /a=mid:(\S+)/.exec(gatewayOffer.sdp)?.[1] ?? '0';
    const payloads = /m=audio \d+ [A-Z/]+ ([0-9 ]+)/.exec(gatewayOffer.sdp)?.[1] ?? '0';
    await alice.call('call.signal', {
      callId,
      signal: { type: 'answer', sdp: sdp('callee', 'active', mid, payloads) },
    });
    await within(
      until('the 200 OK at the caller', async () => /^SIP\/2.0 200/m.test(caller.messages())),
      () => caller.messages(),
    );

    await alice.call('call.signal', {
      callId,
      signal: { type: 'offer', sdp: sdp('calleeRestart', 'actpass', mid, payloads), restart: true },
    });
    const answer = (await event(alice, 'call.signal', callId)).signal as Record<string, unknown>;
    expect(answer).toEqual({ type: 'answer', sdp: expect.stringContaining('a=ice-ufrag:') });
    expect(ufragOf(answer.sdp as string)).not.toBe(ufragOf(gatewayOffer.sdp));
    await within(
      until('the re-INVITE at the caller', async () => invitesReceived(caller) === 1),
      () => caller.messages(),
    );
    await alice.call('call.hangup', { callId });
    expect((await within(caller.exited, () => 'sipp to exit')).code).toBe(0);
  });
});
