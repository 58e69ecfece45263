/**
 * `sfu` rooms in Chromium through a real Relay and a real Janus (issue 14), in the test namespace
 * (Janus gathers ICE on its veth pair), each participant its own RelayClient: join, leave and
 * removal; Janus's voice activity as the active speaker; Janus killed in the middle of a room (a
 * clear error, then everyone back once it restarts). Six participants: test/outage/sfuSix.
 */
import { describe, expect, it } from 'vitest';
import { commands } from 'vitest/browser';
import { untilAll } from './faultKit.js';
import { decodesEveryone, describeRoom, receivesAll, remotes, room } from './roomKit.js';
import { CAMERA, SCOPES, sfuRoomKit } from './sfuKit.js';

const { relay, connected, joinAll } = sfuRoomKit();

describe('an sfu room in Chromium', () => {
  it('lets participants join, leave and be removed, and shows who talks', async () => {
    const mod = await connected('mod', `${SCOPES},rooms:moderate`);
    const gus = await connected('gus');
    const hal = await connected('hal');
    await joinAll([mod, gus, hal], 'townhall', 'sfu');
    // Janus hears the fake microphones (a beep) and says who talks.
    await untilAll(
      [mod],
      () => room(mod, 'townhall').activeSpeakerId !== null,
      () => JSON.stringify(remotes(mod, 'townhall').map((p) => [p.resource, p.speaking])),
      20_000,
    );

    const ivy = await connected('ivy');
    await ivy.joinRoom('townhall', CAMERA);
    const four = [mod, gus, hal, ivy];
    await untilAll(
      four,
      () => four.every((c) => receivesAll(c, 'townhall', 3)),
      describeRoom(four, 'townhall'),
      30_000,
    );
    await decodesEveryone(ivy, 'townhall', 3, 20_000);

    gus.leaveRoom('townhall');
    const three = [mod, hal, ivy];
    await untilAll(
      three,
      () => three.every((c) => receivesAll(c, 'townhall', 2)),
      describeRoom(three, 'townhall'),
      15_000,
    );

    await mod.removeParticipant('townhall', room(hal, 'townhall').participantId!);
    await untilAll(
      [hal],
      () => room(hal, 'townhall').state === 'left',
      describeRoom([hal], 'townhall'),
      10_000,
    );
    expect(room(hal, 'townhall').leftReason).toBe('removed');
    const two = [mod, ivy];
    await untilAll(
      two,
      () => two.every((c) => receivesAll(c, 'townhall', 1)),
      describeRoom(two, 'townhall'),
      15_000,
    );
    await decodesEveryone(mod, 'townhall', 3, 20_000);
  }, 90_000);

  it('says the media server is down when Janus dies, and brings everyone back when it restarts', async () => {
    const all = await Promise.all(['jay', 'kim', 'lou'].map((r) => connected(r)));
    await joinAll(all, 'resilient', 'sfu');
    // A mesh room of two of them carries on through it all.
    await Promise.all(all.slice(0, 2).map((c) => c.joinRoom('side', { ...CAMERA, media: 'mesh' })));
    const side = all.slice(0, 2);
    await untilAll(
      side,
      () => side.every((c) => receivesAll(c, 'side', 1)),
      describeRoom(side, 'side'),
      20_000,
    );

    await commands.killJanus(relay.id);
    await untilAll(
      all,
      () => all.every((c) => room(c, 'resilient').error?.code === 'sfu_unavailable'),
      describeRoom(all, 'resilient'),
      20_000,
    );
    for (const client of all) {
      expect(room(client, 'resilient')).toMatchObject({ state: 'reconnecting' });
      expect(room(client, 'resilient').error?.message).toMatch(/media server/);
    }
    expect(all.slice(0, 2).every((c) => receivesAll(c, 'side', 1))).toBe(true);

    await commands.restartJanus(relay.id);
    await untilAll(
      all,
      () => all.every((c) => receivesAll(c, 'resilient', 2) && room(c, 'resilient').error === null),
      describeRoom(all, 'resilient'),
      45_000,
    );
    await Promise.all(all.map((client) => decodesEveryone(client, 'resilient', 3, 20_000)));
    await decodesEveryone(all[0]!, 'side', 3, 20_000);
  }, 120_000);
});
