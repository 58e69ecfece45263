/**
 * ICE restarts of gateway calls, Relay side (issue 17): the browser's restart offer
 * (`call.signal {type: 'offer', sdp, restart: true}`) goes to Janus's SIP plugin as an `update`,
 * which restarts Janus's ICE and re-INVITEs the far end; Janus's answer comes back as
 * `call.signal {type: 'answer', sdp}`. Against a real Janus and sipp, with SDP written by hand
 * (Node has no WebRTC, so ICE never connects here: the media side is tested in Chromium,
 * test/browser/sipIceRestart.test.ts). Runs inside scripts/loopback.sh.
 */
import { describe, expect, it, vi } from 'vitest';
import type { TestSipp } from 'relaycall/testing';
import { OTHER_PROJECT, until, type TestClient } from './helpers.js';
import {
  audioOf,
  audioSdp,
  invitesReceived,
  sipGatewayPerFile,
  ufragOf,
  within,
} from './sipKit.js';

const SCOPES = ['calls:dial', 'calls:receive', 'calls:sip'];

vi.setConfig({ testTimeout: 45_000 });

const sip = sipGatewayPerFile({ routes: { '+15551230000': 'alice' }, ringTimeoutMs: 10_000 });
const { event, far } = sip;

const restart = (client: TestClient, callId: string, ufrag: string) =>
  client.call('call.signal', {
    callId,
    signal: { type: 'offer', sdp: audioSdp({ ufrag }), restart: true },
  });

/** alice calls sipp's uas-echo and it answers: the call id and Janus's first answer. */
async function answeredCall(alice: TestClient, uas: TestSipp) {
  const { callId } = (await alice.call('call.invite', { to: `sip:echo@${uas.address}` })) as {
    callId: string;
  };
  await alice.call('call.signal', {
    callId,
    signal: { type: 'offer', sdp: audioSdp({ ufrag: 'first' }) },
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
    const alice = await sip.relay.connect('r1', { scopes: SCOPES });
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
    const alice = await sip.relay.connect('r2', { scopes: SCOPES });
    const { callId } = await answeredCall(alice, uas);

    await Promise.all([restart(alice, callId, 'again'), restart(alice, callId, 'again')]);
    const answer = (await event(alice, 'call.signal', callId)).signal as { sdp: string };
    expect(answer.sdp).toContain('a=ice-ufrag:');
    // A later, new restart still gets its answer: the leg is not stuck. While Janus is still
    // busy with the duplicate's re-INVITE it drops an update, and a browser offers again after
    // its attempt timeout: so does this one, every 3 s.
    let answered = false;
    const answeredAnew = (async () => {
      for (;;) {
        const next = (await event(alice, 'call.signal', callId)).signal as { sdp: string };
        if (ufragOf(next.sdp) !== ufragOf(answer.sdp)) return;
      }
    })().then(() => {
      answered = true;
    });
    const offers = (async () => {
      for (let attempt = 0; !answered && attempt < 6; attempt += 1) {
        await restart(alice, callId, `third${attempt}`);
        await Promise.race([answeredAnew, new Promise((resolve) => setTimeout(resolve, 3_000))]);
      }
    })();
    await within(answeredAnew, () => 'an answer to a new restart after the duplicate', 20_000);
    await offers;
    expect(alice.notifications.filter((n) => n.method === 'call.ended')).toEqual([]);
    await alice.call('call.hangup', { callId });
    expect((await within(uas.exited, () => 'sipp to exit')).code).toBe(0);
  });

  it('drops a restart offer before the call is answered (no re-INVITE, no error)', async () => {
    const uas = await far('uas-noanswer');
    const alice = await sip.relay.connect('r3', { scopes: SCOPES });
    const { callId } = (await alice.call('call.invite', { to: `sip:ring@${uas.address}` })) as {
      callId: string;
    };
    await alice.call('call.signal', {
      callId,
      signal: { type: 'offer', sdp: audioSdp({ ufrag: 'ring' }) },
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
    const alice = await sip.relay.connect('alice', { project: OTHER_PROJECT, scopes: SCOPES });
    const caller = await far('uac-inbound', {
      remote: sip.registrar.snapshot().contacts[0],
      service: '+15551230000',
      vars: { hold_ms: 8000 },
    });
    const ring = await within(alice.next('call.incoming'), () => 'the incoming call');
    const callId = String(ring.callId);
    await alice.call('call.answer', { callId });
    const gatewayOffer = (await event(alice, 'call.signal', callId)).signal as { sdp: string };
    const audio = audioOf(gatewayOffer.sdp);
    await alice.call('call.signal', {
      callId,
      signal: { type: 'answer', sdp: audioSdp({ ufrag: 'callee', setup: 'active', ...audio }) },
    });
    await within(
      until('the 200 OK at the caller', async () => /^SIP\/2.0 200/m.test(caller.messages())),
      () => caller.messages(),
    );

    await alice.call('call.signal', {
      callId,
      signal: { type: 'offer', sdp: audioSdp({ ufrag: 'calleeRestart', ...audio }), restart: true },
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
