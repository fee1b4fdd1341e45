/**
 * Pure parts of the polling schedule: a due-time heap, the even spreading of probes over the poll
 * interval, and the back-off of unreachable instances.
 *
 * Orchestrator re-probes an instance when its `last_checked` is older than InstancePollSeconds, found by
 * a scan every second (spec §4.8): instances discovered together stay in phase and are probed in bursts
 * once per interval. Here each instance has a phase slot in the interval (a hash of its key); every
 * healthy re-probe is due one interval after the previous probe started, nudged by at most 10 % of the
 * interval towards its slot. After a few cycles the probes are spread evenly and every instance is
 * still probed every InstancePollSeconds (± 10 % while converging).
 */

/** A min-heap of (due time, item), FIFO among equal due times. */
export class DueQueue<A> {
  private readonly at: Array<number> = []
  private readonly seq: Array<number> = []
  private readonly items: Array<A> = []
  private counter = 0

  get size(): number {
    return this.items.length
  }

  push(due: number, item: A): void {
    this.at.push(due)
    this.seq.push(this.counter++)
    this.items.push(item)
    this.up(this.items.length - 1)
  }

  /** Due time of the earliest item, or undefined when empty. */
  peekDue(): number | undefined {
    return this.at[0]
  }

  pop(): { readonly due: number; readonly item: A } | undefined {
    const n = this.items.length
    if (n === 0) return undefined
    const due = this.at[0]!
    const item = this.items[0]!
    this.swap(0, n - 1)
    this.at.pop()
    this.seq.pop()
    this.items.pop()
    if (this.items.length > 0) this.down(0)
    return { due, item }
  }

  clear(): void {
    this.at.length = 0
    this.seq.length = 0
    this.items.length = 0
  }

  private less(i: number, j: number): boolean {
    const a = this.at[i]!
    const b = this.at[j]!
    return a < b || (a === b && this.seq[i]! < this.seq[j]!)
  }

  private swap(i: number, j: number): void {
    const t = this.at[i]!
    this.at[i] = this.at[j]!
    this.at[j] = t
    const s = this.seq[i]!
    this.seq[i] = this.seq[j]!
    this.seq[j] = s
    const x = this.items[i]!
    this.items[i] = this.items[j]!
    this.items[j] = x
  }

  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.less(i, p)) return
      this.swap(i, p)
      i = p
    }
  }

  private down(i: number): void {
    const n = this.items.length
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < n && this.less(l, m)) m = l
      if (r < n && this.less(r, m)) m = r
      if (m === i) return
      this.swap(i, m)
      i = m
    }
  }
}

/** FNV-1a 32-bit hash of a string. */
export const hash32 = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The instance's phase slot within the poll interval, in [0, pollMs). */
export const phaseSlot = (id: string, pollMs: number): number => (hash32(id) / 0x1_0000_0000) * pollMs

/** How far (ms) a probe started at `startedAt` is from the slot, in (-pollMs/2, pollMs/2]. */
export const phaseError = (id: string, startedAt: number, pollMs: number): number => {
  const slot = phaseSlot(id, pollMs)
  let e = (startedAt - slot) % pollMs
  if (e < 0) e += pollMs
  return e > pollMs / 2 ? e - pollMs : e
}

/** Largest correction per cycle, as a fraction of the interval. */
export const maxNudge = 0.1

/** When a healthy instance whose probe started at `startedAt` is due again. */
export const nextHealthyDue = (id: string, startedAt: number, pollMs: number): number => {
  const e = phaseError(id, startedAt, pollMs)
  const limit = pollMs * maxNudge
  const nudge = Math.max(-limit, Math.min(limit, e))
  return startedAt + pollMs - nudge
}

/**
 * Delay before re-probing an instance after `failures` consecutive failed probes (>= 1): one poll interval
 * after the first failure (the failure itself is visible at once through last_checked), doubling up to
 * `maxMs`. Unreachable instances are probed in their own queue, with their own concurrency, so a black-holed
 * port holding a probe for MySQLConnectTimeoutSeconds never delays a healthy instance.
 */
export const backoffDelay = (failures: number, pollMs: number, maxMs: number): number =>
  Math.min(Math.max(pollMs, maxMs), pollMs * 2 ** Math.max(0, Math.min(failures - 1, 20)))

/** The q-quantile (0..1) of a list of numbers (nearest rank); 0 for an empty list. */
export const quantile = (values: ReadonlyArray<number>, q: number): number => {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[rank]!
}
