/**
 * A name identifies one person, whatever the store and however it is spelled. A resource with a
 * lone surrogate (`x\ud800`) was issued a JWT as is; SQLite stored it as U+FFFD, so after a
 * refresh it had become `x\ufffd…`, the same person as a refreshed `x\udfff`. Now such names are
 * refused everywhere a name enters (REST, issueToken, call.invite), bidirectional controls too,
 * and names are kept in NFC, so that "é" composed and decomposed is one person.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore, resourceProblem } from 'relaycall/server';
import { PROJECT, basic, rest, startRelay, type Pair, type TestRelay } from './helpers.js';

let relay: TestRelay | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await relay?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as {
    resource: string;
  };

const COMPOSED = 'Ren\u00e9e'; // "Renée", é as one code point
const DECOMPOSED = 'Rene\u0301e'; // the same name, e + combining acute accent

describe('names that are not one well-formed spelling', () => {
  it.each([
    ['a lone high surrogate', 'x\ud800', /well-formed Unicode/],
    ['a lone low surrogate', 'x\udfff', /well-formed Unicode/],
    ['a reversed pair', '\udc00\ud800', /well-formed Unicode/],
    ['a right-to-left override', 'alice\u202egnp.exe', /bidirectional controls/],
    ['a first-strong isolate', '\u2068bob\u2069', /bidirectional controls/],
  ])('refuses %s in a resource (REST 400)', async (_, resource, message) => {
    relay = await startRelay({ store: await sqlite() });
    // JSON.stringify writes lone surrogates as \ud800 escapes, as an attacker's client would.
    const response = await rest(relay.url, 'POST', { resource }, basic(PROJECT));
    expect(response.status).toBe(400);
    expect(response.json).toMatchObject({
      error: { code: 'bad_request', message: expect.stringMatching(message) as unknown },
    });
    await expect(relay.relay.issueToken({ project: PROJECT.id, resource })).rejects.toThrow(
      message,
    );
  });

  it('refuses such names as a call.invite target', async () => {
    relay = await startRelay();
    const alice = await relay.connect('alice');
    for (const to of ['x\ud800', 'bob\u202e']) {
      await expect(alice.call('call.invite', { to })).rejects.toMatchObject({
        code: 'invalid_params',
      });
    }
  });

  it('keeps a well-formed astral name exactly across a refresh in SQLite', async () => {
    relay = await startRelay({ store: await sqlite() });
    const first = await relay.token({ resource: 'x\ud83d\ude00' }); // a well-formed pair: 😀
    const refreshed = (
      await rest(relay.url, 'PUT', { refresh_token: first.refresh_token }, basic(PROJECT))
    ).json as Pair;
    expect(claims(refreshed.jwt_token).resource).toBe('x\ud83d\ude00');
    expect(resourceProblem('x\ud83d\ude00')).toBeUndefined();
  });
});

describe('one spelling per name (NFC)', () => {
  it('issues NFD and NFC names the same resource, and rings it whichever way it is dialled', async () => {
    relay = await startRelay({ store: await sqlite() });
    const nfd = await relay.token({ resource: DECOMPOSED });
    expect(claims(nfd.jwt_token).resource).toBe(COMPOSED);
    const refreshed = (
      await rest(relay.url, 'PUT', { refresh_token: nfd.refresh_token }, basic(PROJECT))
    ).json as Pair;
    expect(claims(refreshed.jwt_token).resource).toBe(COMPOSED);
    const pair = await relay.relay.issueToken({ project: PROJECT.id, resource: DECOMPOSED });
    expect(claims(pair.jwtToken).resource).toBe(COMPOSED);

    const renee = await relay.connect(DECOMPOSED);
    const alice = await relay.connect('alice');
    await alice.call('call.invite', { to: COMPOSED });
    await renee.next('call.incoming');
    const { callId } = await alice.call('call.invite', { to: DECOMPOSED });
    expect(await renee.next('call.incoming')).toMatchObject({ callId, from: 'alice' });
  });

  it('counts a name by its NFC length', () => {
    expect(resourceProblem('e\u0301'.repeat(128))).toBeUndefined(); // 256 units, 128 in NFC
    expect(resourceProblem('é'.repeat(129))).toMatch(/at most 128/);
  });
});

async function sqlite() {
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-identity-'));
  dirs.push(dir);
  return SqliteStore.open(join(dir, 'relay.sqlite'));
}
