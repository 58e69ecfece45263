import { describe, expect, it } from 'vitest';
import { ManualClock } from 'relaycall/testing';
import { CompactSet } from '../../src/server/rooms/CompactSet.js';
import { ExpiryQueue, type Expiring } from '../../src/server/signaling/ExpiryQueue.js';

describe('ExpiryQueue', () => {
  const item = (name: string, expiresAt: number) => ({ name, expiresAt, expiryIndex: -1 });

  it('ends each item when it expires, in order of expiry, with one timer', () => {
    const clock = new ManualClock();
    const ended: string[] = [];
    const queue = new ExpiryQueue<Expiring & { name: string }>(clock, (i) => ended.push(i.name));
    const now = clock.now();
    for (const [name, at] of [
      ['c', 300],
      ['a', 100],
      ['d', 400],
      ['b', 200],
    ] as const) {
      queue.schedule(item(name, now + at));
    }
    expect(clock.pending()).toEqual([100]);
    clock.advance(250);
    expect(ended).toEqual(['a', 'b']);
    expect(clock.pending()).toEqual([50]);
    clock.advance(1_000);
    expect(ended).toEqual(['a', 'b', 'c', 'd']);
    expect(clock.pending()).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it('moves an item whose expiry changed, and forgets a cancelled one', () => {
    const clock = new ManualClock();
    const ended: string[] = [];
    const queue = new ExpiryQueue<Expiring & { name: string }>(clock, (i) => ended.push(i.name));
    const now = clock.now();
    const a = item('a', now + 100);
    const b = item('b', now + 200);
    const c = item('c', now + 300);
    for (const i of [a, b, c]) queue.schedule(i);
    // A fresher token: a now expires last.
    a.expiresAt = now + 1_000;
    queue.schedule(a);
    expect(clock.pending()).toEqual([200]);
    queue.cancel(b);
    queue.cancel(b);
    expect(b.expiryIndex).toBe(-1);
    expect(clock.pending()).toEqual([300]);
    clock.advance(2_000);
    expect(ended).toEqual(['c', 'a']);
  });

  it('re-arms after the longest delay a Node timer takes, without ending early', () => {
    const clock = new ManualClock();
    const ended: string[] = [];
    const queue = new ExpiryQueue<Expiring & { name: string }>(clock, (i) => ended.push(i.name));
    const inAYear = clock.now() + 365 * 24 * 3600 * 1000;
    queue.schedule(item('far', inAYear));
    expect(clock.pending()).toEqual([2 ** 31 - 1]);
    clock.advance(2 ** 31 - 1);
    expect(ended).toEqual([]);
    clock.advance(inAYear - clock.now());
    expect(ended).toEqual(['far']);
  });

  it('orders many items as a sort would', () => {
    const clock = new ManualClock();
    const ended: number[] = [];
    const queue = new ExpiryQueue<Expiring & { n: number }>(clock, (i) => ended.push(i.n));
    const now = clock.now();
    const items = Array.from({ length: 200 }, (_, n) => ({
      n,
      expiresAt: now + 1 + ((n * 7919) % 1000),
      expiryIndex: -1,
    }));
    for (const i of items) queue.schedule(i);
    for (const i of items.filter((_, n) => n % 3 === 0)) queue.cancel(i);
    clock.advance(2_000);
    const expected = items
      .filter((_, n) => n % 3 !== 0)
      .sort((x, y) => x.expiresAt - y.expiresAt)
      .map((i) => i.expiresAt);
    expect(ended.map((n) => (items[n] as { expiresAt: number }).expiresAt)).toEqual(expected);
  });
});

describe('CompactSet', () => {
  it('behaves as a Set of its values, in insertion order', () => {
    const set = new CompactSet<string>();
    expect(set.size).toBe(0);
    expect(set.has('a')).toBe(false);
    set.add('a').add('a');
    expect([...set]).toEqual(['a']);
    set.add('b').add('c').add('b');
    expect([...set]).toEqual(['a', 'b', 'c']);
    expect(set.size).toBe(3);
    expect(set.delete('b')).toBe(true);
    expect(set.delete('b')).toBe(false);
    expect([...set]).toEqual(['a', 'c']);
    expect(set.delete('a')).toBe(true);
    expect([...set]).toEqual(['c']);
    expect(set.has('c')).toBe(true);
    expect(set.delete('c')).toBe(true);
    expect(set.size).toBe(0);
    expect(new CompactSet(['x', 'y', 'x']).values()).toEqual(['x', 'y']);
  });

  it('lets a loop delete what it visits', () => {
    const set = new CompactSet(['a', 'b', 'c']);
    const seen: string[] = [];
    for (const value of set) {
      seen.push(value);
      set.delete(value);
    }
    expect(seen).toEqual(['a', 'b', 'c']);
    expect(set.size).toBe(0);
  });
});
