/**
 * A keyed table for entries that come and go at a high rate (one per proposal), used instead of a `Map`.
 *
 * Why not a Map: on Node 20 (V8 11.3) a long-lived Map or Set whose entries are added and deleted at a high
 * rate makes the young-generation GC promote every value that ever passed through it. Each time the Map's
 * hash table is rebuilt, V8 keeps a pointer from the old (obsolete) table to the new one; once one such
 * table has been promoted, the dead old tables keep every later table — and every value they held — alive
 * through each scavenge, until the next full GC. Measured in a plain-JS loop (64 live entries, add one,
 * delete one): ~1 MB promoted per scavenge and 8 ms pauses, against none with a dictionary object.
 * A dictionary-mode object's hash table has no such back chain (docs/benchmarks.md, session 9).
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
