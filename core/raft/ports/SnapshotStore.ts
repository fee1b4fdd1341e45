/**
 * SnapshotStore — durable state-machine snapshots (thesis §5.1) and the follower side of InstallSnapshot.
 *
 * A snapshot is identified by its SnapshotMeta (term, index); its content is opaque bytes owned by the
 * runtime's state machine (orchestrator: gzip'ed JSON of the replicated tables, compat spec §1.4).
 *
 * Contract:
 *   - `create(meta, data)` returns once the snapshot is DURABLE and complete (written aside, checksummed,
 *     fsync'ed, then made visible atomically): a crash leaves either no trace or the whole snapshot. Only
 *     then may the runtime compact the log below meta.index. Creating a (term, index) that already exists
 *     keeps the existing one (same index and term → same state, raft's State Machine Safety).
 *   - `latest` is the complete snapshot with the highest index (None when there is none); `list` gives all
 *     of them, newest first. After each create/finalize only the newest `retain` snapshots are kept
 *     (hashicorp FileSnapshotStore `retain`; orchestrator keeps 10, we default to 3: RaftRetainSnapshots).
 *   - `read(meta, offset, maxBytes)` returns the bytes at [offset, offset + maxBytes) and `done` when they
 *     reach the end: the leader side of InstallSnapshot. It fails NotFound when that snapshot was removed
 *     by retention meanwhile (the runtime then steps `SnapshotUnavailable`). `readAll(meta)` returns the
 *     whole content after verifying its checksum (restore at start-up and after an install).
 *   - `receive(meta)` opens the follower side. A store holds at most one partial receive: asking for the
 *     same meta again RESUMES it (also after a restart: the received prefix is durable), asking for another
 *     discards the old one. `write(offset, data)` accepts only offset = expectedOffset, else fails with
 *     SnapshotOffsetMismatch carrying the expected offset (nothing written); on success the bytes are
 *     durable and the new expected offset is returned, which the follower may acknowledge.
 *     `finalize(expected?)` re-reads what was stored, checks it against the checksum computed while
 *     receiving and against `expected` (size and CRC-32, when the sender supplied one), then makes it a
 *     complete snapshot (same durability as create) which becomes `latest` if it is the newest. On a
 *     mismatch it fails ChecksumMismatch and discards the partial receive (the transfer restarts at 0).
 *   - Offsets are bytes. The core counts InstallSnapshot offsets in characters; with the latin1 wire
 *     encoding of Checksum.ts (`bytesToWire`/`wireToBytes`) the two are equal.
 * Compare hashicorp/raft snapshot.go `SnapshotStore`/`SnapshotSink` and file_snapshot.go.
 */
import { Context, Effect, Layer, Option } from "effect"
import type { SnapshotMeta } from "../Types.js"
import { crc32 } from "./Checksum.js"
import { SnapshotOffsetMismatch, SnapshotStoreError } from "./StorageError.js"

export interface SnapshotInfo {
  readonly meta: SnapshotMeta
  readonly size: number
  readonly crc32: number
}

export interface Checksum {
  readonly size: number
  readonly crc32: number
}

export interface SnapshotReceiver {
  readonly meta: SnapshotMeta
  readonly expectedOffset: Effect.Effect<number>
  readonly write: (offset: number, data: Uint8Array) => Effect.Effect<number, SnapshotStoreError | SnapshotOffsetMismatch>
  readonly finalize: (expected?: Checksum) => Effect.Effect<SnapshotInfo, SnapshotStoreError>
  /** Discards the partial receive. */
  readonly abort: Effect.Effect<void, SnapshotStoreError>
}

export interface SnapshotStoreShape {
  readonly create: (meta: SnapshotMeta, data: Uint8Array) => Effect.Effect<SnapshotInfo, SnapshotStoreError>
  readonly latest: Effect.Effect<Option.Option<SnapshotInfo>, SnapshotStoreError>
  readonly list: Effect.Effect<ReadonlyArray<SnapshotInfo>, SnapshotStoreError>
  readonly read: (
    meta: SnapshotMeta,
    offset: number,
    maxBytes: number
  ) => Effect.Effect<{ readonly data: Uint8Array; readonly done: boolean }, SnapshotStoreError>
  readonly readAll: (meta: SnapshotMeta) => Effect.Effect<Uint8Array, SnapshotStoreError>
  readonly receive: (meta: SnapshotMeta) => Effect.Effect<SnapshotReceiver, SnapshotStoreError>
}

export class SnapshotStore extends Context.Tag("orchestrator/raft/SnapshotStore")<SnapshotStore, SnapshotStoreShape>() {}

export const defaultRetain = 3

/** Directory-name form of a snapshot id, `<term>-<index>` (orchestrator: `<term>-<index>-<unixms>`). */
export const snapshotName = (meta: SnapshotMeta): string => `${meta.term}-${meta.index}`

export const sameSnapshot = (a: SnapshotMeta, b: SnapshotMeta): boolean => a.term === b.term && a.index === b.index

/** Newest first: higher index, then higher term. */
export const newestFirst = (a: SnapshotInfo, b: SnapshotInfo): number =>
  b.meta.index - a.meta.index || b.meta.term - a.meta.term

export const checksumError = (op: string, what: string, expected: Checksum, got: Checksum): SnapshotStoreError =>
  new SnapshotStoreError({
    op,
    reason: "ChecksumMismatch",
    message: `${what}: expected size ${expected.size} crc32 ${expected.crc32}, got size ${got.size} crc32 ${got.crc32}`
  })

export const notFound = (op: string, meta: SnapshotMeta): SnapshotStoreError =>
  new SnapshotStoreError({ op, reason: "NotFound", message: `snapshot ${snapshotName(meta)} not found` })

const invalidChunk = (op: string, message: string) => new SnapshotStoreError({ op, reason: "Invalid", message })

export const checkRead = (op: string, offset: number, maxBytes: number): SnapshotStoreError | undefined =>
  !Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(maxBytes) || maxBytes <= 0
    ? invalidChunk(op, `bad range offset ${offset} maxBytes ${maxBytes}`)
    : undefined

/** The "disk" of a memory snapshot store: survives a rebuild of the layer (simulated restart). */
export interface MemorySnapshotDisk {
  readonly snapshots: Map<string, { readonly info: SnapshotInfo; readonly data: Uint8Array }>
  receiving: { meta: SnapshotMeta; chunks: Array<Uint8Array>; size: number; crc: number } | undefined
}

export const makeMemorySnapshotDisk = (): MemorySnapshotDisk => ({ snapshots: new Map(), receiving: undefined })

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number): Uint8Array => {
  const out = new Uint8Array(size)
  let at = 0
  for (const c of chunks) {
    out.set(c, at)
    at += c.length
  }
  return out
}

export const makeMemory = (
  disk: MemorySnapshotDisk = makeMemorySnapshotDisk(),
  retain: number = defaultRetain
): SnapshotStoreShape => {
  const sorted = () => Array.from(disk.snapshots.values(), (s) => s.info).sort(newestFirst)
  const keep = (data: Uint8Array, meta: SnapshotMeta): SnapshotInfo => {
    const name = snapshotName(meta)
    const existing = disk.snapshots.get(name)
    if (existing) return existing.info
    const info: SnapshotInfo = { meta, size: data.length, crc32: crc32(data) }
    disk.snapshots.set(name, { info, data: data.slice() })
    for (const old of sorted().slice(Math.max(1, retain))) disk.snapshots.delete(snapshotName(old.meta))
    return info
  }
  type Stored = { readonly info: SnapshotInfo; readonly data: Uint8Array }
  const find = (op: string, meta: SnapshotMeta): Effect.Effect<Stored, SnapshotStoreError> => {
    const s = disk.snapshots.get(snapshotName(meta))
    return s ? Effect.succeed(s) : Effect.fail(notFound(op, meta))
  }
  const receiver = (meta: SnapshotMeta): SnapshotReceiver => {
    const current = () =>
      disk.receiving !== undefined && sameSnapshot(disk.receiving.meta, meta) ? disk.receiving : undefined
    return {
      meta,
      expectedOffset: Effect.sync(() => current()?.size ?? 0),
      write: (offset, data) =>
        Effect.suspend((): Effect.Effect<number, SnapshotStoreError | SnapshotOffsetMismatch> => {
          const r = current()
          if (r === undefined) return Effect.fail(invalidChunk("receive.write", "receive was finalized or aborted"))
          if (offset !== r.size) return Effect.fail(new SnapshotOffsetMismatch({ offset, expected: r.size }))
          r.chunks.push(data.slice())
          r.size += data.length
          r.crc = crc32(data, r.crc)
          return Effect.succeed(r.size)
        }),
      finalize: (expected) =>
        Effect.suspend(() => {
          const r = current()
          if (r === undefined) return Effect.fail(invalidChunk("receive.finalize", "receive was finalized or aborted"))
          disk.receiving = undefined
          const data = concat(r.chunks, r.size)
          const got = { size: data.length, crc32: crc32(data) }
          if (got.crc32 !== r.crc) return Effect.fail(checksumError("receive.finalize", "stored bytes", { size: r.size, crc32: r.crc }, got))
          if (expected !== undefined && (expected.size !== got.size || expected.crc32 !== got.crc32)) {
            return Effect.fail(checksumError("receive.finalize", `snapshot ${snapshotName(meta)}`, expected, got))
          }
          return Effect.succeed(keep(data, meta))
        }),
      abort: Effect.sync(() => {
        if (current() !== undefined) disk.receiving = undefined
      })
    }
  }
  return {
    create: (meta, data) => Effect.sync(() => keep(data, meta)),
    latest: Effect.sync(() => Option.fromNullable(sorted()[0])),
    list: Effect.sync(sorted),
    read: (meta, offset, maxBytes) =>
      Effect.suspend(() => {
        const bad = checkRead("read", offset, maxBytes)
        if (bad) return Effect.fail(bad)
        return find("read", meta).pipe(Effect.map((s) => {
          const end = Math.min(s.data.length, offset + maxBytes)
          return { data: s.data.slice(Math.min(offset, end), end), done: end >= s.data.length }
        }))
      }),
    readAll: (meta) => find("readAll", meta).pipe(Effect.map((s) => s.data.slice())),
    receive: (meta) =>
      Effect.sync(() => {
        if (disk.receiving === undefined || !sameSnapshot(disk.receiving.meta, meta)) {
          disk.receiving = { meta, chunks: [], size: 0, crc: 0 }
        }
        return receiver(meta)
      })
  }
}

/** An in-memory SnapshotStore (hashicorp/raft inmem_snapshot.go), keeping `retain` snapshots. */
export const layerMemory = (options: { readonly disk?: MemorySnapshotDisk; readonly retain?: number } = {}): Layer.Layer<SnapshotStore> =>
  Layer.sync(SnapshotStore, () => makeMemory(options.disk, options.retain))
