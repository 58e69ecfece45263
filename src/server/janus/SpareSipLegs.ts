import type { JanusSipLeg } from './JanusSipLeg.js';

/**
 * SIP legs made ready before they are needed. Janus's SIP plugin starts a SIP stack of its own
 * for every handle, which takes ~100 ms: a call that takes a ready leg sends its INVITE at once.
 * Legs are prepared for a kind of call (a trunk, through its proxy or not) once the first such
 * call was placed, so projects that never call cost nothing; each taken leg is replaced once
 * its INVITE is out (Janus's SIP plugin handles one request at a time: a SIP stack starting
 * would hold the INVITE up).
 */
export class SpareSipLegs {
  readonly #ready: JanusSipLeg[] = [];
  #preparing = 0;
  #closed = false;

  constructor(
    /** A new leg, registered and ready to invite. */
    private readonly prepare: () => Promise<JanusSipLeg>,
    /** How many to keep ready. */
    private readonly size: number,
  ) {}

  /** A ready leg when there is one, else undefined. Call {@link refill} once it is in use. */
  take(): JanusSipLeg | undefined {
    let leg: JanusSipLeg | undefined;
    while ((leg = this.#ready.shift()) && !leg.usable) void leg.close();
    return leg;
  }

  /** Frees every ready leg, and prepares no more. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#ready.splice(0).map((leg) => leg.close()));
  }

  /** Prepares legs until `size` are ready or being prepared. */
  refill(): void {
    while (!this.#closed && this.#ready.length + this.#preparing < this.size) {
      this.#preparing += 1;
      this.prepare().then(
        (leg) => {
          this.#preparing -= 1;
          if (this.#closed) void leg.close();
          else this.#ready.push(leg);
        },
        // Janus is away or refused: the next call prepares its own and refills then.
        () => {
          this.#preparing -= 1;
        },
      );
    }
  }
}
