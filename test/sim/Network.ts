/**
 * In-memory packet simulator (TigerBeetle packet_simulator.zig): per-packet delay (so reordering), loss,
 * duplication, and partitions as a set of blocked directed links (symmetric or one-way).
 */
import type { Message } from "../../core/raft/Message.js"
import type { Rng } from "./Rng.js"

export interface NetOptions {
  delayMinTicks: number
  delayMaxTicks: number
  lossPerMille: number
  duplicatePerMille: number
}

export class Network {
  private readonly buckets = new Map<number, Array<Message>>()
  private readonly blocked = new Set<string>()
  inFlight = 0

  constructor(private readonly rng: Rng, public opts: NetOptions) {}

  private schedule(m: Message, now: number): void {
    const due = now + this.rng.int(this.opts.delayMinTicks, this.opts.delayMaxTicks)
    const bucket = this.buckets.get(due)
    if (bucket === undefined) this.buckets.set(due, [m])
    else bucket.push(m)
    this.inFlight++
  }

  send(m: Message, now: number): void {
    if (this.blocked.has(`${m.from}>${m.to}`) || this.rng.chance(this.opts.lossPerMille)) return
    this.schedule(m, now)
    if (this.rng.chance(this.opts.duplicatePerMille)) this.schedule(m, now)
  }

  /** Packets due at `now`, in a seed-determined order (reordering within a tick too). */
  take(now: number): Array<Message> {
    const bucket = this.buckets.get(now)
    if (bucket === undefined) return []
    this.buckets.delete(now)
    this.inFlight -= bucket.length
    for (let i = bucket.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i)
      const t = bucket[i]!
      bucket[i] = bucket[j]!
      bucket[j] = t
    }
    // A partition that started after sending also drops packets on the wire.
    return bucket.filter((m) => !this.blocked.has(`${m.from}>${m.to}`))
  }

  isPartitioned(): boolean {
    return this.blocked.size > 0
  }

  /** Splits `side` from `rest`; one-way partitions only block rest → side or side → rest. */
  partition(side: ReadonlyArray<string>, rest: ReadonlyArray<string>, mode: "both" | "in" | "out"): void {
    this.blocked.clear()
    for (const a of side) {
      for (const b of rest) {
        if (mode !== "in") this.blocked.add(`${a}>${b}`)
        if (mode !== "out") this.blocked.add(`${b}>${a}`)
      }
    }
  }

  heal(): void {
    this.blocked.clear()
  }

  describe(): string {
    return [...this.blocked].sort().join(",")
  }
}
