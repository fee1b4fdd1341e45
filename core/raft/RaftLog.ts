/**
 * The in-memory view of one node's raft log, as an immutable value (thesis §3.5, §5 log compaction).
 *
 * Layout: entries[0].index === offset + 1; the log holds entries[0 .. length). Everything ≤ offset has been
 * folded into a snapshot (offsetTerm / offsetConf describe the entry at `offset`). Indexes:
 *   offset ≤ applied ≤ committed ≤ lastIndex,   stable ≤ lastIndex
 * Invariant: `stable` is the highest index known durable on this node's disk AND equal to the
 * in-memory entry (writes still in flight may truncate; see Persistence.ts). etcd splits the same
 * idea into log.go + log_unstable.go; here durability is tracked by write sequence numbers instead.
 */
import type { ConfState, Entry, Index, SnapshotMeta, Term } from "./Types.js"
import { decodeConf } from "./Types.js"

export interface RaftLog {
  readonly offset: Index
  readonly offsetTerm: Term
  /** Membership in effect at `offset` (from the snapshot, or bootstrap). */
  readonly offsetConf: ConfState
  /**
   * Backing array, shared between successive log values: only its first `length` entries belong to this
   * value. Appending at the end pushes onto the array when no other value has grown it past this one's
   * length (the usual case: each step appends to the newest state), instead of copying the whole log per
   * append — O(log size) per proposal was most of a busy node's allocation and GC. Entries below a value's
   * length are never changed, so every older value still reads what it held: the log stays immutable.
   */
  readonly entries: ReadonlyArray<Entry>
  readonly length: number
  readonly committed: Index
  readonly applied: Index
  readonly stable: Index
  /** Membership in effect at lastIndex: the last config entry in the log (thesis §4.1: used once appended). */
  readonly conf: ConfState
  /** Index of the entry that produced `conf` (≤ offset when it comes from offsetConf). */
  readonly confIndex: Index
}

export const make = (conf: ConfState): RaftLog => ({
  offset: 0,
  offsetTerm: 0,
  offsetConf: conf,
  entries: [],
  length: 0,
  committed: 0,
  applied: 0,
  stable: 0,
  conf,
  confIndex: 0
})

export const firstIndex = (log: RaftLog): Index => log.offset + 1
export const lastIndex = (log: RaftLog): Index => log.offset + log.length

export const term = (log: RaftLog, i: Index): Term | undefined => {
  if (i === log.offset) return log.offsetTerm
  if (i < log.offset || i > lastIndex(log)) return undefined
  return log.entries[i - log.offset - 1]!.term
}

export const lastTerm = (log: RaftLog): Term => term(log, lastIndex(log))!

export const matchTerm = (log: RaftLog, i: Index, t: Term): boolean => term(log, i) === t

export const entryAt = (log: RaftLog, i: Index): Entry | undefined =>
  i > log.offset && i <= lastIndex(log) ? log.entries[i - log.offset - 1] : undefined

/** Entries in [lo, hi), clamped to what the log holds above the offset. */
export const slice = (log: RaftLog, lo: Index, hi: Index): ReadonlyArray<Entry> => {
  const from = Math.max(lo, log.offset + 1) - log.offset - 1
  const to = Math.min(hi, lastIndex(log) + 1) - log.offset - 1
  return from >= to ? [] : log.entries.slice(from, to)
}

/** Thesis §3.6.1: a candidate's log is at least as up-to-date as ours. */
export const isUpToDate = (log: RaftLog, candLastIndex: Index, candLastTerm: Term): boolean => {
  const t = lastTerm(log)
  return candLastTerm > t || (candLastTerm === t && candLastIndex >= lastIndex(log))
}

/** First index of `entries` that is new or conflicts with our log, or 0 if all are present. */
export const findConflict = (log: RaftLog, entries: ReadonlyArray<Entry>): Index => {
  for (const e of entries) {
    if (!matchTerm(log, e.index, e.term)) return e.index
  }
  return 0
}

/**
 * The largest index ≤ `index` whose term is ≤ `t`, with that term (0 when unknown / compacted).
 * Both sides of fast log repair use it (thesis §3.5; etcd findConflictByTerm).
 */
export const findConflictByTerm = (log: RaftLog, index: Index, t: Term): readonly [Index, Term] => {
  let i = Math.min(index, lastIndex(log))
  while (i > log.offset) {
    const ti = term(log, i)!
    if (ti <= t) return [i, ti]
    i--
  }
  return [i, i === log.offset && log.offsetTerm <= t ? log.offsetTerm : 0]
}

/** Membership in effect at index i (the last config entry ≤ i, else offsetConf). */
export const confAt = (log: RaftLog, i: Index): ConfState => {
  for (let j = Math.min(i, lastIndex(log)); j > log.offset; j--) {
    const e = log.entries[j - log.offset - 1]!
    if (e.type === "config") return decodeConf(e.data)
  }
  return log.offsetConf
}

const lastConf = (
  entries: ReadonlyArray<Entry>,
  fallback: ConfState,
  fallbackIndex: Index
): readonly [ConfState, Index] => {
  for (let k = entries.length - 1; k >= 0; k--) {
    const e = entries[k]!
    if (e.type === "config") return [decodeConf(e.data), e.index]
  }
  return [fallback, fallbackIndex]
}

/**
 * Writes `entries` (contiguous) at entries[0].index, truncating anything at or after it.
 * Truncating a committed entry is a safety bug (thesis §3.5 Log Matching + Leader Completeness), so it throws.
 */
export const append = (log: RaftLog, entries: ReadonlyArray<Entry>): RaftLog => {
  if (entries.length === 0) return log
  const from = entries[0]!.index
  if (from <= log.committed) throw new Error(`raft: truncating committed entry ${from} ≤ ${log.committed}`)
  if (from > lastIndex(log) + 1) throw new Error(`raft: gap appending ${from} after ${lastIndex(log)}`)
  const keep = from - log.offset - 1
  let next: Array<Entry>
  if (keep === log.length && log.entries.length === log.length) {
    next = log.entries as Array<Entry>
    for (const e of entries) next.push(e)
  } else {
    next = log.entries.slice(0, keep).concat(entries)
  }
  // A truncated config entry stops being in effect (thesis §4.1: "a log entry for a configuration change
  // can be removed ... the server must be prepared to fall back to the previous configuration").
  const [conf, confIndex] = from <= log.confIndex
    ? lastConf(next, log.offsetConf, log.offset)
    : lastConf(entries, log.conf, log.confIndex)
  return { ...log, entries: next, length: keep + entries.length, stable: Math.min(log.stable, from - 1), conf, confIndex }
}

export const commitTo = (log: RaftLog, i: Index): RaftLog => {
  if (i <= log.committed) return log
  if (i > lastIndex(log)) throw new Error(`raft: commit ${i} beyond last index ${lastIndex(log)}`)
  return { ...log, committed: i }
}

/** Drops entries ≤ upTo (they are covered by a snapshot at ≥ upTo). */
export const compact = (log: RaftLog, upTo: Index): RaftLog => {
  if (upTo <= log.offset) return log
  if (upTo > log.applied) throw new Error(`raft: compacting ${upTo} beyond applied ${log.applied}`)
  return {
    ...log,
    offset: upTo,
    offsetTerm: term(log, upTo)!,
    offsetConf: confAt(log, upTo),
    entries: log.entries.slice(upTo - log.offset, log.length),
    length: log.length - (upTo - log.offset)
  }
}

/** Replaces the whole log by a snapshot (thesis §5.1: "the follower discards its entire log"). */
export const restore = (log: RaftLog, snap: SnapshotMeta): RaftLog => ({
  offset: snap.index,
  offsetTerm: snap.term,
  offsetConf: snap.conf,
  entries: [],
  length: 0,
  committed: snap.index,
  applied: snap.index,
  stable: Math.min(log.stable, 0),
  conf: snap.conf,
  confIndex: snap.index
})

/** Every entry the log holds (a copy). */
export const all = (log: RaftLog): ReadonlyArray<Entry> => log.entries.slice(0, log.length)

/** Committed entries that are durable here and not yet handed to the state machine. */
export const nextToApply = (log: RaftLog): ReadonlyArray<Entry> =>
  slice(log, log.applied + 1, Math.min(log.committed, log.stable) + 1)
