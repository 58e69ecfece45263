/** A counter per value of one label (an error code, a status): values are created on first count. */
export class LabelCounts {
  private readonly counts = new Map<string, number>();

  add(value: string): void {
    this.counts.set(value, (this.counts.get(value) ?? 0) + 1);
  }

  /** The count of one value; 0 before its first. */
  get(value: string): number {
    return this.counts.get(value) ?? 0;
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}
