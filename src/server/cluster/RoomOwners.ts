import type { Redis } from 'ioredis';
import { ErrorCodes, RelayError } from '../../protocol/index.js';

/** Deletes KEYS[1] when it still holds ARGV[1] (this node, or the dead owner being replaced). */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;
/** Replaces the owner ARGV[1] of KEYS[1] with ARGV[2], when it is still ARGV[1]. */
const TAKE_OVER = `if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2]) return 1 end return 0`;

/**
 * Which node holds each room, in Redis: a room lives on one node (the one its first participant
 * joined through), and sessions of other nodes join it through theirs. A room whose node died is
 * taken over by the next node a participant joins through (the room starts again there: its
 * participants join it again with their ids).
 *
 * Keys under the prefix P: `P room:<project, name>` (the owner node's id).
 */
export class RoomOwners {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly nodeId: string,
    private readonly alive: (node: string) => Promise<boolean>,
    /** Told of a release that failed. */
    private readonly failed: (error: unknown) => void,
  ) {}

  /** The node holding the room; this node claims it when nobody (alive) does. */
  async ownerOf(projectId: string, name: string): Promise<string> {
    const key = this.key(projectId, name);
    try {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        if ((await this.redis.set(key, this.nodeId, 'NX')) === 'OK') return this.nodeId;
        const owner = await this.redis.get(key);
        if (owner === null) continue;
        if (owner === this.nodeId || (await this.alive(owner))) return owner;
        if ((await this.redis.eval(TAKE_OVER, 1, key, owner, this.nodeId)) === 1) {
          return this.nodeId;
        }
      }
    } catch (cause) {
      throw unreachable(cause);
    }
    throw unreachable();
  }

  /** The room ended on this node (or was never created here): another node may hold it next. */
  release(projectId: string, name: string): void {
    this.redis.eval(RELEASE, 1, this.key(projectId, name), this.nodeId).catch(this.failed);
  }

  private key(projectId: string, name: string): string {
    // JSON keeps the two parts apart whatever characters they hold.
    return `${this.prefix}room:${JSON.stringify([projectId, name])}`;
  }
}

function unreachable(cause?: unknown): RelayError {
  return new RelayError(
    ErrorCodes.unavailableService,
    'The Relay cannot reach the other nodes right now (its Redis does not answer), so it cannot ' +
      'find where the room is. Try again shortly.',
    { cause },
  );
}
