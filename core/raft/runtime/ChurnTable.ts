/**
 * A keyed table for entries that come and go at a high rate (a waiter per proposal; service/GcTuning.ts keeps
 * Effect's running root fibers in one), used instead of a `Map`.
 *
 * Why not a Map: on Node 20 (V8 11.3) a long-lived Map or Set whose entries are added and deleted at a high
 * rate makes the young-generation GC promote every value that ever passed through it. Deletions make V8
 * rebuild the Map's hash table now and then; once the table lives in old space its rebuilds are allocated
 * there too, and each obsolete table keeps its entries (and a pointer to its successor, for live iterators)
 * until the next full GC. Old objects pointing at young ones keep them alive through every scavenge, so each
 * value is copied and promoted though long dead. `npm run bench -- gc-promotion` (64 live entries, add one,
 * delete one): ~3 MB promoted per scavenge and 14 ms pauses with an old Map or Set, none with a dictionary
 * object, whose rebuilt tables keep nothing (docs/benchmarks.md, "Why the scavenges promote").
 *
 * Keys are property names: 3 and "3" are the same key. A value must not be `undefined` (it reads as absent).
 */
export class ChurnTable<V> {
  private entries: Record<string, V> = Object.create(null) as Record<string, V>
  private count = 0

  get size(): number {
    return this.count
  }

  get(key: string | number): V | undefined {
    return this.entries[key]
  }

  set(key: string | number, value: V): void {
    if (this.entries[key] === undefined) this.count++
    this.entries[key] = value
  }

  delete(key: string | number): boolean {
    if (this.entries[key] === undefined) return false
    delete this.entries[key]
    this.count--
    return true
  }

  clear(): void {
    this.entries = Object.create(null) as Record<string, V>
    this.count = 0
  }

  values(): Array<V> {
    const out: Array<V> = []
    for (const key in this.entries) out.push(this.entries[key]!)
    return out
  }
}
