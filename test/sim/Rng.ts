/** The simulator's seeded PRNG (mulberry32). Probabilities are integer ratios, as in TigerBeetle's VOPR. */
export class Rng {
  private s: number
  constructor(seed: number) {
    this.s = (seed * 0x9e3779b1 + 0x7f4a7c15) >>> 0
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + (this.next() % (hi - lo + 1))
  }
  /** True with probability perMille / 1000. */
  chance(perMille: number): boolean {
    return perMille > 0 && this.next() % 1000 < perMille
  }
  pick<T>(items: ReadonlyArray<T>): T {
    if (items.length === 0) throw new Error("pick from empty list")
    return items[this.next() % items.length]!
  }
}
