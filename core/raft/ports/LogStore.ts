/**
 * LogStore — the durable raft log (thesis §3.5, Fig. 3.1 "log[]" is persistent state).
 *
 * Contract (every implementation, checked by test/raft-io/logStoreSuite.ts):
 *   - The store holds one contiguous run of entries [firstIndex, lastIndex]. An empty store reports
 *     lastIndex = firstIndex - 1 (a fresh one: firstIndex 1, lastIndex 0).
 *   - `append(entries)`: `entries` are contiguous (index +1 each) with non-decreasing terms. When the store
 *     is not empty, entries[0].index must lie in [firstIndex, lastIndex + 1]: every held entry at or after
 *     entries[0].index is replaced (the "truncate at entries[0].index, then append" of core/raft/State.ts).
 *     An empty store accepts any first index ≥ 1 (after a snapshot install the log restarts at
 *     snapshot.index + 1). When `append` succeeds the entries are DURABLE: fsync'ed, and will be read back
 *     after a crash (kill -9, power loss on a disk that honours flushes). Only then may the runtime send
 *     the acknowledgements that depend on them (thesis §3.8).
 *   - `truncateSuffix(from)`: drops every entry with index ≥ from, durably. A no-op past lastIndex.
 *   - `compactPrefix(upTo)`: entries ≤ upTo are covered by a durable snapshot and MAY be dropped; an
 *     implementation may keep some (e.g. a segment file drops whole segments), `firstIndex` says what is
 *     held. When upTo ≥ lastIndex the whole log is dropped and the store is empty with
 *     firstIndex = upTo + 1 (InstallSnapshot: "discard the entire log", thesis §5.1). Not necessarily
 *     durable at once: a crash may bring back entries ≤ upTo, never lose entries > upTo.
 *   - `entries(lo, hi, maxBytes)`: entries in [lo, hi), stopping before the total of `entrySize` would
 *     exceed maxBytes, but always at least one entry when lo < hi. Fails with reason Compacted when
 *     lo < firstIndex, Unavailable when hi > lastIndex + 1.
 *   - `term(index)`: the term of a held entry, None outside [firstIndex, lastIndex].
 *   - Reads return exactly what was appended (checksummed in the durable store; a record that fails its
 *     checksum on open is a torn tail and is truncated with a log line, on a later read it fails Corrupt).
 *   - Calls are serialized by the caller (one raft runtime per store); the store is not a concurrency
 *     control point.
 * Compare hashicorp/raft log.go `LogStore` and etcd-io/raft storage.go `Storage`.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { Entry, Index, Term } from "../Types.js"
import { RaftStorageError } from "./StorageError.js"

export interface LogStoreShape {
  readonly firstIndex: Effect.Effect<Index, RaftStorageError>
  readonly lastIndex: Effect.Effect<Index, RaftStorageError>
  readonly term: (index: Index) => Effect.Effect<Option.Option<Term>, RaftStorageError>
  readonly entries: (lo: Index, hi: Index, maxBytes?: number) => Effect.Effect<ReadonlyArray<Entry>, RaftStorageError>
  readonly append: (entries: ReadonlyArray<Entry>) => Effect.Effect<void, RaftStorageError>
  readonly truncateSuffix: (from: Index) => Effect.Effect<void, RaftStorageError>
  readonly compactPrefix: (upTo: Index) => Effect.Effect<void, RaftStorageError>
}

export class LogStore extends Context.Tag("orchestrator/raft/LogStore")<LogStore, LogStoreShape>() {}

/** The size an entry counts for in `entries(lo, hi, maxBytes)`: its data plus a fixed header allowance. */
export const entrySize = (e: Entry): number => 32 + e.data.length

/** Checks the shape of an append against the held range; shared by every implementation. */
export const checkAppend = (
  entries: ReadonlyArray<Entry>,
  held: { readonly first: Index; readonly last: Index; readonly termAt: (index: Index) => Term | undefined }
): RaftStorageError | undefined => {
  const fail = (reason: "Compacted" | "NonContiguous" | "Invalid", message: string) =>
    new RaftStorageError({ op: "append", reason, message })
  const first = entries[0]!
  if (first.index < 1) return fail("Invalid", `entry index ${first.index} < 1`)
  for (let k = 1; k < entries.length; k++) {
    const prev = entries[k - 1]!
    const e = entries[k]!
    if (e.index !== prev.index + 1) return fail("NonContiguous", `entry ${e.index} follows ${prev.index}`)
    if (e.term < prev.term) return fail("Invalid", `term ${e.term} at ${e.index} < term ${prev.term} before it`)
  }
  const empty = held.last < held.first
  if (empty) return undefined
  if (first.index < held.first) return fail("Compacted", `append at ${first.index} < firstIndex ${held.first}`)
  if (first.index > held.last + 1) {
    return fail("NonContiguous", `append at ${first.index} leaves a gap after lastIndex ${held.last}`)
  }
  const prevTerm = first.index > held.first ? held.termAt(first.index - 1) : undefined
  if (prevTerm !== undefined && first.term < prevTerm) {
    return fail("Invalid", `term ${first.term} at ${first.index} < term ${prevTerm} before it`)
  }
  return undefined
}

export const rangeError = (op: string, lo: Index, hi: Index, first: Index, last: Index): RaftStorageError | undefined => {
  if (lo > hi) return new RaftStorageError({ op, reason: "Invalid", message: `lo ${lo} > hi ${hi}` })
  if (lo < first) return new RaftStorageError({ op, reason: "Compacted", message: `lo ${lo} < firstIndex ${first}` })
  if (hi > last + 1) {
    return new RaftStorageError({ op, reason: "Unavailable", message: `hi ${hi} > lastIndex ${last} + 1` })
  }
  return undefined
}

/** The "disk" of a memory log: survives a rebuild of the layer, so tests can simulate a restart. */
export interface MemoryLogDisk {
  /** Index before the first held entry. */
  base: Index
  entries: Array<Entry>
}

export const makeMemoryLogDisk = (): MemoryLogDisk => ({ base: 0, entries: [] })

export const makeMemory = (disk: MemoryLogDisk = makeMemoryLogDisk()): LogStoreShape => {
  const first = () => disk.base + 1
  const last = () => disk.base + disk.entries.length
  const termAt = (i: Index): Term | undefined => i >= first() && i <= last() ? disk.entries[i - first()]!.term : undefined
  return {
    firstIndex: Effect.sync(first),
    lastIndex: Effect.sync(last),
    term: (index) => Effect.sync(() => Option.fromNullable(termAt(index))),
    entries: (lo, hi, maxBytes = Number.MAX_SAFE_INTEGER) =>
      Effect.suspend(() => {
        const err = rangeError("entries", lo, hi, first(), last())
        if (err) return Effect.fail(err)
        const out: Array<Entry> = []
        let size = 0
        for (let i = lo; i < hi; i++) {
          const e = disk.entries[i - first()]!
          size += entrySize(e)
          if (out.length > 0 && size > maxBytes) break
          out.push(e)
        }
        return Effect.succeed(out)
      }),
    append: (entries) =>
      Effect.suspend(() => {
        if (entries.length === 0) return Effect.void
        const err = checkAppend(entries, { first: first(), last: last(), termAt })
        if (err) return Effect.fail(err)
        if (last() < first()) disk.base = entries[0]!.index - 1
        disk.entries = disk.entries.slice(0, entries[0]!.index - first()).concat(entries)
        return Effect.void
      }),
    truncateSuffix: (from) =>
      Effect.sync(() => {
        if (from > last()) return
        disk.entries = disk.entries.slice(0, Math.max(0, from - first()))
      }),
    compactPrefix: (upTo) =>
      Effect.sync(() => {
        if (upTo < first()) return
        if (upTo >= last()) {
          disk.base = upTo
          disk.entries = []
          return
        }
        disk.entries = disk.entries.slice(upTo - disk.base)
        disk.base = upTo
      })
  }
}

/** An in-memory LogStore (hashicorp/raft inmem_store.go). Pass a disk to keep its content across rebuilds. */
export const layerMemory = (disk?: MemoryLogDisk): Layer.Layer<LogStore> => Layer.sync(LogStore, () => makeMemory(disk))
