import { afterEach, describe, expect, it } from 'vitest';
import { sippScenario, startSipp, type TestSipp } from '../../src/testing/startSipp.js';

// Real sipp against real sipp on the veth pair of scripts/loopback.sh (10.77.0.2 both ends).
const SLOW = 20_000;
const started: TestSipp[] = [];

afterEach(async () => {
  await Promise.all(started.splice(0).map((sipp) => sipp.stop()));
});

async function sipp(...args: Parameters<typeof startSipp>): Promise<TestSipp> {
  const instance = await startSipp(...args);
  started.push(instance);
  return instance;
}

/**
 * Each INVITE and INVITE response in a sipp trace whose SDP sets a direction, as
 * "<CSeq number> <start line> <direction>", retransmissions dropped.
 */
function inviteDirections(trace: string): string[] {
  const out: string[] = [];
  for (const chunk of trace.split(/^-{20,}.*$/m)) {
    const start = /^(INVITE sip:\S+ SIP\/2\.0|SIP\/2\.0 \d{3} .*)$/m.exec(chunk)?.[1];
    const cseq = /^CSeq:\s*(\d+) INVITE\s*$/m.exec(chunk)?.[1];
    const direction = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(chunk)?.[1];
    if (!start || !cseq || !direction) continue;
    const line = `${cseq} ${start.startsWith('INVITE') ? 'INVITE' : start} ${direction}`;
    if (out.at(-1) !== line) out.push(line);
  }
  return out;
}

describe('startSipp', () => {
  it('finds the bundled scenarios', () => {
    expect(sippScenario('uas-echo')).toMatch(/test\/sipp\/uas-echo\.xml$/);
    expect(() => sippScenario('../package')).toThrow(/not a scenario name/);
    expect(() => sippScenario('no-such-scenario')).toThrow(/no scenario/);
  });

  it('says how to install sipp when it is missing', async () => {
    await expect(
      startSipp({ scenario: sippScenario('uas-echo'), binary: 'sipp-missing-for-test' }),
    ).rejects.toThrow(/apt-get install sip-tester/);
  });

  it(
    'uas-echo: answers, takes DTMF INFOs and a REFER, ends on BYE',
    async () => {
      const far = await sipp({ scenario: sippScenario('uas-echo') });
      expect(far.address).toMatch(/^10\.77\.0\.2:\d+$/);
      const caller = await sipp({
        scenario: sippScenario('uac-call'),
        remote: far.address,
        service: '+15551230000',
      });
      const [farResult, callerResult] = await Promise.all([far.exited, caller.exited]);
      expect(callerResult.code).toBe(0);
      // The call's INVITE, then uac-call's hold and unhold re-INVITEs.
      expect(callerResult.finalStatuses).toEqual([200, 200, 200]);
      expect(farResult.code).toBe(0);
      expect(farResult.dtmf).toBe('5#');
      expect(farResult.referTo).toEqual(['sip:transfer-target@example.invalid']);
      expect(farResult.messages).toMatch(/^INVITE sip:\+15551230000@10\.77\.0\.2:\d+ SIP\/2\.0$/m);
      expect(far.messages()).toContain('BYE sip:');
    },
    SLOW,
  );

  it(
    'uas-refer: answers the REFER with 202 and a NOTIFY sipfrag',
    async () => {
      const far = await sipp({ scenario: sippScenario('uas-refer') });
      const caller = await sipp({ scenario: sippScenario('uac-call'), remote: far.address });
      const [farResult, callerResult] = await Promise.all([far.exited, caller.exited]);
      expect([farResult.code, callerResult.code]).toEqual([0, 0]);
      expect(farResult.referTo).toEqual(['sip:transfer-target@example.invalid']);
      expect(callerResult.messages).toMatch(/^NOTIFY [\s\S]*^SIP\/2\.0 200 OK$/m);
    },
    SLOW,
  );

  it(
    'uas-dtmf and uas-early: answer (early media first) and read the digits',
    async () => {
      const dtmf = await sipp({ scenario: sippScenario('uas-dtmf') });
      const early = await sipp({ scenario: sippScenario('uas-early'), vars: { early_ms: 200 } });
      const callers = await Promise.all(
        [dtmf, early].map((far) =>
          sipp({ scenario: sippScenario('uac-call'), remote: far.address }),
        ),
      );
      const results = await Promise.all([dtmf, early, ...callers].map((s) => s.exited));
      expect(results.map((result) => result.code)).toEqual([0, 0, 0, 0]);
      expect(results[0]?.dtmf).toBe('5#');
      expect(results[1]?.messages).toMatch(/^SIP\/2\.0 183 Session Progress$/m);
    },
    SLOW,
  );

  it(
    'uas-echo, uas-dtmf, uas-refer, uas-early: answer hold (recvonly) and unhold re-INVITEs',
    async () => {
      const names = ['uas-echo', 'uas-dtmf', 'uas-refer', 'uas-early'] as const;
      const fars = await Promise.all(
        names.map((name) =>
          sipp({
            scenario: sippScenario(name),
            vars: name === 'uas-early' ? { early_ms: 200 } : {},
          }),
        ),
      );
      // uac-call: INVITE (CSeq 1), INFOs, re-INVITE a=sendonly (4), re-INVITE a=sendrecv (5), each
      // with a new branch and ACKed; it fails unless each 200 has the expected direction.
      const callers = await Promise.all(
        fars.map((far) => sipp({ scenario: sippScenario('uac-call'), remote: far.address })),
      );
      const farResults = await Promise.all(fars.map((far) => far.exited));
      const callerResults = await Promise.all(callers.map((caller) => caller.exited));
      expect(callerResults.map((result) => result.code)).toEqual(names.map(() => 0));
      expect(farResults.map((result) => result.code)).toEqual(names.map(() => 0));
      for (const result of farResults) {
        // The re-INVITEs (CSeq 4 and 5); the call's own INVITE (1) is sendrecv, with a 183 first
        // from uas-early.
        const reinvites = inviteDirections(result.messages).filter(
          (line) => !line.startsWith('1 '),
        );
        expect(reinvites).toEqual([
          '4 INVITE sendonly',
          '4 SIP/2.0 200 OK recvonly',
          '5 INVITE sendrecv',
          '5 SIP/2.0 200 OK sendrecv',
        ]);
        expect(result.messages).toMatch(/^CSeq: 4 ACK\r?$/m);
        expect(result.messages).toMatch(/^CSeq: 5 ACK\r?$/m);
        expect(result.messages).toContain('BYE sip:');
      }
    },
    SLOW,
  );

  it(
    'registrar: answers a REGISTER and reports its Contact',
    async () => {
      const registrar = await sipp({ scenario: sippScenario('registrar'), calls: 1 });
      const client = await sipp({
        scenario: sippScenario('uac-register'),
        remote: registrar.address,
        service: 'gateway',
      });
      const [result, clientResult] = await Promise.all([registrar.exited, client.exited]);
      expect([result.code, clientResult.code]).toEqual([0, 0]);
      expect(result.contacts).toEqual([client.address]);
      expect(clientResult.messages).toMatch(/^Contact: <sip:gateway@[^>]+>;expires=3600$/m);
    },
    SLOW,
  );

  it(
    'error scenarios answer their status; uac-inbound reads it',
    async () => {
      const cases = [
        ['uas-busy', 486],
        ['uas-notfound', 404],
        ['uas-unavailable', 480],
        ['uas-forbidden', 403],
        ['uas-error', 500],
      ] as const;
      const fars = await Promise.all(cases.map(([name]) => sipp({ scenario: sippScenario(name) })));
      const callers = await Promise.all(
        fars.map((far) =>
          sipp({
            scenario: sippScenario('uac-inbound'),
            remote: far.address,
            service: '+15551230000',
          }),
        ),
      );
      const results = await Promise.all(callers.map((caller) => caller.exited));
      expect(results.map((result) => result.finalStatuses)).toEqual(
        cases.map(([, code]) => [code]),
      );
      expect(results.map((result) => result.code)).toEqual(cases.map(() => 0));
      expect((await Promise.all(fars.map((far) => far.exited))).map((r) => r.code)).toEqual(
        cases.map(() => 0),
      );
      expect(results[0]?.messages).toMatch(/^From: <sip:\+15557654321@10\.77\.0\.2>;tag=/m);
    },
    SLOW,
  );

  it(
    'uas-remote-bye hangs up on uac-inbound, echoing the RTP it plays meanwhile',
    async () => {
      const far = await sipp({ scenario: sippScenario('uas-remote-bye'), vars: { bye_ms: 1500 } });
      const caller = await sipp({
        scenario: sippScenario('uac-inbound'),
        remote: far.address,
        vars: { hold_ms: 10_000, caller: '+15550001111' },
      });
      const started = Date.now();
      const [farResult, callerResult] = await Promise.all([far.exited, caller.exited]);
      expect([farResult.code, callerResult.code]).toEqual([0, 0]);
      expect(Date.now() - started).toBeLessThan(6000);
      expect(callerResult.messages).toMatch(/^BYE sip:\+15550001111@/m);
      expect(farResult.rtpEchoed).toBeGreaterThan(10);
    },
    SLOW,
  );

  it(
    'uas-noanswer rings until stopped; stop() is safe twice',
    async () => {
      const far = await sipp({ scenario: sippScenario('uas-noanswer') });
      const caller = await sipp({ scenario: sippScenario('uac-inbound'), remote: far.address });
      const deadline = Date.now() + 5000;
      while (!/^SIP\/2\.0 180 Ringing$/m.test(caller.messages()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(caller.messages()).toMatch(/^SIP\/2\.0 180 Ringing$/m);
      await Promise.all([caller.stop(), far.stop()]);
      await far.stop();
      expect((await far.exited).finalStatuses).toEqual([]);
    },
    SLOW,
  );
});
