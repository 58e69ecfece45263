/**
 * Helpers of the room tests in Chromium (mesh and sfu): reading a client's room, waiting for
 * everyone's media, and describing who receives whom when a wait times out.
 */
import { expect } from 'vitest';
import type { ParticipantSnapshot, RelayClient, RoomSnapshot } from 'relaycall/core';
import { fetchTestToken, framesPresented, playInVideo } from './helpers.js';

/** A JWT from the test Relay's token endpoint, with `scopes` (comma-separated). */
export const roomToken = (tokenUrl: string, resource: string, scopes: string) =>
  fetchTestToken(tokenUrl, resource, scopes);

export const room = (client: RelayClient, name: string) =>
  client.store.getState().rooms[name] as RoomSnapshot;

export const remotes = (client: RelayClient, name: string): ParticipantSnapshot[] =>
  Object.values(room(client, name)?.participants ?? {}).filter((p) => !p.isLocal);

/** Whether `client` is joined with exactly `count` others, each with a stream and connected. */
export const receivesAll = (client: RelayClient, name: string, count: number) => {
  const others = remotes(client, name);
  return (
    room(client, name)?.state === 'joined' &&
    others.length === count &&
    others.every((p) => p.state === 'joined' && p.connected && p.stream !== null)
  );
};

/** Each client's room state, media, error and what it has of every other participant. */
export const describeRoom = (all: RelayClient[], name: string) => () =>
  all
    .map((c) => {
      const r = room(c, name);
      const others = remotes(c, name)
        .map((p) => `${p.resource}:${p.state}${p.connected ? '+' : '-'}${p.stream ? 's' : ''}`)
        .join(',');
      const error = r?.error ? `!${r.error.code}` : '';
      return `${c.store.getState().resource}=${r?.state ?? 'none'}/${r?.media}${error}[${others}]`;
    })
    .join(' ');

/** Plays every remote stream `client` receives and waits for `frames` new frames in each. */
export async function decodesEveryone(
  client: RelayClient,
  name: string,
  frames: number,
  timeoutMs = 10_000,
) {
  const videos = await Promise.all(
    remotes(client, name).map((p) => playInVideo(p.stream as MediaStream)),
  );
  const who = client.store.getState().resource;
  await Promise.all(
    videos.map((video, i) => framesPresented(video, frames, `frames ${i} at ${who}`, timeoutMs)),
  );
  for (const video of videos) expect(video.videoWidth).toBeGreaterThan(0);
  return videos;
}

/**
 * Records each watched client's connection statuses and sessions (with the error code of a
 * drop), so a timed-out wait can tell a lost signal from a socket that dropped.
 */
export function statusHistory() {
  const history = new Map<RelayClient, string[]>();
  return {
    watch(client: RelayClient): void {
      const seen: string[] = [];
      history.set(client, seen);
      client.store.subscribe(({ status, sessionId, error }) => {
        const now = `${status}:${sessionId?.slice(-4) ?? '-'}${error ? `!${error.code}` : ''}`;
        if (seen.at(-1) !== now) seen.push(now);
      });
    },
    describe: (all: RelayClient[]) =>
      all.map((c) => `${c.store.getState().resource}:${history.get(c)?.join('>')}`).join(' '),
  };
}
