/**
 * The durable LogStore: append-only, checksummed segment files in `RaftDataDir/log/`.
 *
 * Layout: `log/<first index, 20 digits>.seg`, each a sequence of records
 *     [u32 BE payload length][u32 BE CRC-32 of the payload][payload: JSON {"i":index,"t":term,"y":type,"d":data}]
 * Segments are contiguous (each starts at the previous one's last index + 1); a new one starts when the
 * active one passes `segmentBytes`. An empty segment marks the first index of an empty log (after a
 * snapshot install).
 *
 * Crash safety (docs/raft-storage.md): an append is one write(2) then fdatasync(2) of the active segment
 * (the sync on libuv's thread pool, so the event loop keeps running while the disk flushes);
 * a new segment file is also made durable in its directory (fsync of `log/`). On open every record is
 * verified (length, CRC, JSON shape, index = previous + 1); the first bad record starts a torn or corrupt
 * tail, which is truncated with a log line together with every later segment. Multi-file operations are
 * ordered so that a crash in between leaves a contiguous log: truncation unlinks the newest segments first,
 * compaction the oldest first.
 *
 * Why ~300 lines: the recovery scan, truncation and compaction share the segment index kept here.
 */
import { Effect, Option } from "effect"
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import type { LogStoreShape } from "../../core/raft/ports/LogStore.js"
import { checkAppend, entrySize, rangeError } from "../../core/raft/ports/LogStore.js"
import { RaftStorageError, type StorageErrorReason } from "../../core/raft/ports/StorageError.js"
import type { Entry, EntryType, Index, Term } from "../../core/raft/Types.js"
import { describe, fsyncDir, join, readAt, writeAt } from "./Fs.js"

const headerBytes = 8
/** A record larger than this is treated as garbage on open (a torn length field). */
const maxRecordBytes = 256 * 1024 * 1024
const entryTypes: ReadonlySet<string> = new Set<EntryType>(["normal", "noop", "config"])

interface Segment {
  readonly first: Index
  readonly file: string
  fd: number
  /** Byte offset of each record; record k holds index first + k. */
  offsets: Array<number>
  terms: Array<Term>
  size: number
}

export interface FileLogStoreOptions {
  /** Directory of the segment files (RaftDataDir/log). */
  readonly dir: string
  /** Start a new segment when the active one is at least this large. Default 64 MiB. */
  readonly segmentBytes?: number
}

export interface OpenedLog {
  readonly store: LogStoreShape
  /** What recovery found and did (truncated tails, removed segments), to be logged by the caller. */
  readonly notes: ReadonlyArray<string>
  readonly close: () => void
}

/** Records written to the active segment, waiting for their fdatasync. */
interface PendingAppend {
  readonly seg: Segment
  /** Byte size of each record written, in order. */
  readonly sizes: ReadonlyArray<number>
  readonly entries: ReadonlyArray<Entry>
}

const segmentName = (first: Index) => `${String(first).padStart(20, "0")}.seg`

/**
 * The records of one append, in one buffer: each payload's text is encoded straight into it (no buffer per
 * record and no concatenation: the append path runs for every entry on every node).
 */
export const encodeRecords = (entries: ReadonlyArray<Entry>): { readonly buf: Buffer; readonly sizes: Array<number> } => {
  const texts = entries.map((e) => JSON.stringify({ i: e.index, t: e.term, y: e.type, d: e.data }))
  const sizes = texts.map((t) => headerBytes + Buffer.byteLength(t, "utf8"))
  const buf = Buffer.allocUnsafe(sizes.reduce((a, b) => a + b, 0))
  let pos = 0
  for (let k = 0; k < texts.length; k++) {
    const len = sizes[k]! - headerBytes
    buf.writeUInt32BE(len, pos)
    buf.write(texts[k]!, pos + headerBytes, len, "utf8")
    buf.writeUInt32BE(zlib.crc32(buf.subarray(pos + headerBytes, pos + headerBytes + len)), pos + 4)
    pos += sizes[k]!
  }
  return { buf, sizes }
}

/** Decodes the record at `pos`, or says why it is not a valid record. */
const decodeRecord = (buf: Buffer, pos: number, expectedIndex: Index): { entry: Entry; next: number } | string => {
  if (buf.length - pos < headerBytes) return `short header (${buf.length - pos} bytes)`
  const len = buf.readUInt32BE(pos)
  if (len === 0 || len > maxRecordBytes) return `bad length ${len}`
  if (pos + headerBytes + len > buf.length) return `record of ${len} bytes runs past the end of the file`
  const payload = buf.subarray(pos + headerBytes, pos + headerBytes + len)
  if (zlib.crc32(payload) !== buf.readUInt32BE(pos + 4)) return "CRC mismatch"
  let raw: unknown
  try {
    raw = JSON.parse(payload.toString("utf8"))
  } catch {
    return "payload is not JSON"
  }
  const r = raw as { i?: unknown; t?: unknown; y?: unknown; d?: unknown }
  if (
    !Number.isSafeInteger(r.i) || !Number.isSafeInteger(r.t) || (r.t as number) < 0 ||
    typeof r.y !== "string" || !entryTypes.has(r.y) || typeof r.d !== "string"
  ) return "payload is not an entry"
  if (r.i !== expectedIndex) return `index ${String(r.i)} where ${expectedIndex} was expected`
  return { entry: { index: r.i as number, term: r.t as number, type: r.y as EntryType, data: r.d }, next: pos + headerBytes + len }
}

const fail = (op: string, reason: StorageErrorReason, message: string, cause?: unknown) =>
  new RaftStorageError({ op, reason, message, ...(cause === undefined ? {} : { cause }) })

/** Runs a synchronous storage step; OS errors become reason Io. */
const io = <A>(op: string, f: () => A): Effect.Effect<A, RaftStorageError> =>
  Effect.try({
    try: f,
    catch: (cause) => cause instanceof RaftStorageError ? cause : fail(op, "Io", `raft log ${op}: ${describe(cause)}`, cause)
  })

/** Opens (creating if needed) the log in `options.dir`, recovering from a torn or corrupt tail. */
export const open = (options: FileLogStoreOptions): OpenedLog => {
  const dir = options.dir
  const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024
  const notes: Array<string> = []
  fs.mkdirSync(dir, { recursive: true })
  const segments: Array<Segment> = []

  const names = fs.readdirSync(dir).filter((n) => /^\d{20}\.seg$/.test(n)).sort()
  let dirty = false
  let dropRest = false
  for (const name of names) {
    const file = join(dir, name)
    const first = Number(name.slice(0, 20))
    const prev = segments[segments.length - 1]
    const expectedFirst = prev === undefined ? undefined : prev.first + prev.offsets.length
    if (!dropRest && expectedFirst !== undefined && first !== expectedFirst) {
      notes.push(`raft log: segment ${name} starts at ${first}, expected ${expectedFirst}: removing it and every later segment`)
      dropRest = true
    }
    if (dropRest || first < 1) {
      if (!dropRest) notes.push(`raft log: segment ${name} has an invalid first index: removing it and every later segment`)
      dropRest = true
      notes.push(`raft log: removed segment ${name}`)
      fs.unlinkSync(file)
      dirty = true
      continue
    }
    const buf = fs.readFileSync(file)
    const seg: Segment = { first, file, fd: -1, offsets: [], terms: [], size: 0 }
    let pos = 0
    while (pos < buf.length) {
      const r = decodeRecord(buf, pos, first + seg.offsets.length)
      if (typeof r === "string") {
        notes.push(
          `raft log: torn or corrupt record in ${name} at byte ${pos} (index ${first + seg.offsets.length}: ${r}): ` +
            `truncating ${buf.length - pos} bytes`
        )
        dropRest = true
        break
      }
      seg.offsets.push(pos)
      seg.terms.push(r.entry.term)
      pos = r.next
    }
    seg.size = pos
    seg.fd = fs.openSync(file, "r+")
    if (pos < buf.length) {
      fs.ftruncateSync(seg.fd, pos)
      fs.fsyncSync(seg.fd)
    }
    segments.push(seg)
  }
  if (dirty) fsyncDir(dir)

  const firstIndex = (): Index => segments[0]?.first ?? 1
  const count = () => segments.reduce((n, s) => n + s.offsets.length, 0)
  const lastIndex = (): Index => {
    const s = segments[segments.length - 1]
    return s === undefined ? 0 : s.first + s.offsets.length - 1
  }
  const segmentOf = (index: Index): Segment | undefined => {
    for (let k = segments.length - 1; k >= 0; k--) {
      const s = segments[k]!
      if (index >= s.first) return index < s.first + s.offsets.length ? s : undefined
    }
    return undefined
  }
  const termAt = (index: Index): Term | undefined => {
    const s = segmentOf(index)
    return s === undefined ? undefined : s.terms[index - s.first]
  }
  const createSegment = (first: Index): Segment => {
    const file = join(dir, segmentName(first))
    const fd = fs.openSync(file, "w+")
    fsyncDir(dir)
    const seg: Segment = { first, file, fd, offsets: [], terms: [], size: 0 }
    segments.push(seg)
    return seg
  }
  const removeSegment = (seg: Segment) => {
    fs.closeSync(seg.fd)
    fs.unlinkSync(seg.file)
    segments.splice(segments.indexOf(seg), 1)
  }

  /** Drops every entry ≥ from: newest segments first, so a crash leaves a contiguous log. */
  const truncate = (from: Index) => {
    if (from > lastIndex()) return
    let unlinked = false
    while (segments.length > 1 && segments[segments.length - 1]!.first >= from) {
      removeSegment(segments[segments.length - 1]!)
      unlinked = true
    }
    if (unlinked) fsyncDir(dir)
    const s = segments[segments.length - 1]!
    const keep = Math.max(0, from - s.first)
    if (keep < s.offsets.length) {
      const size = s.offsets[keep]!
      fs.ftruncateSync(s.fd, size)
      fs.fsyncSync(s.fd)
      s.offsets = s.offsets.slice(0, keep)
      s.terms = s.terms.slice(0, keep)
      s.size = size
    }
  }

  /**
   * The synchronous half of an append: checks, truncation of a replaced suffix, and the write(2) of all
   * records at the end of the active segment. The index is only updated once the fdatasync has succeeded
   * (`appended`), so a failed sync leaves file and index as they were.
   */
  const appendWrite = (entries: ReadonlyArray<Entry>): PendingAppend | undefined => {
    if (entries.length === 0) return undefined
    const err = checkAppend(entries, { first: firstIndex(), last: lastIndex(), termAt })
    if (err) throw err
    const start = entries[0]!.index
    if (count() === 0) {
      // Empty log: it restarts at `start` (an empty marker segment with another first index is replaced).
      if (segments[0]?.first !== start) {
        for (const s of [...segments]) removeSegment(s)
        createSegment(start)
      }
    } else if (start <= lastIndex()) {
      truncate(start)
    }
    let seg = segments[segments.length - 1]!
    if (seg.size >= segmentBytes && seg.offsets.length > 0) seg = createSegment(lastIndex() + 1)
    const { buf, sizes } = encodeRecords(entries)
    try {
      writeAt(seg.fd, buf, seg.size)
    } catch (cause) {
      unwrite(seg)
      throw cause
    }
    return { seg, sizes, entries }
  }
  /** Cuts a write that could not be made durable (the runtime treats the failure as fatal anyway: fsyncgate). */
  const unwrite = (seg: Segment) => {
    try {
      fs.ftruncateSync(seg.fd, seg.size)
    } catch {
      // the write or sync error is the one reported
    }
  }
  const appended = ({ entries, seg, sizes }: PendingAppend) => {
    let pos = seg.size
    for (let k = 0; k < sizes.length; k++) {
      seg.offsets.push(pos)
      seg.terms.push(entries[k]!.term)
      pos += sizes[k]!
    }
    seg.size = pos
  }
  /**
   * fdatasync on libuv's thread pool, not on the event loop: while the disk flushes, the node keeps
   * parsing requests and receiving messages, which the runtime then takes as one batch for the next
   * append (group commit). A sync fsync serialised everything behind it: one op per fsync under load.
   */
  const append = (entries: ReadonlyArray<Entry>): Effect.Effect<void, RaftStorageError> =>
    Effect.flatMap(io("append", () => appendWrite(entries)), (pending) =>
      pending === undefined ? Effect.void : Effect.async<void, RaftStorageError>((resume) => {
        fs.fdatasync(pending.seg.fd, (cause) => {
          if (cause === null) {
            appended(pending)
            resume(Effect.void)
          } else {
            unwrite(pending.seg)
            resume(Effect.fail(fail("append", "Io", `raft log append: ${describe(cause)}`, cause)))
          }
        })
      }))

  const compact = (upTo: Index) => {
    if (upTo < firstIndex()) return
    if (upTo >= lastIndex()) {
      for (const s of [...segments]) removeSegment(s)
      createSegment(upTo + 1)
      return
    }
    let unlinked = false
    while (segments.length > 1 && segments[1]!.first - 1 <= upTo) {
      removeSegment(segments[0]!)
      unlinked = true
    }
    if (unlinked) fsyncDir(dir)
  }

  const read = (lo: Index, hi: Index, maxBytes: number): Array<Entry> => {
    const out: Array<Entry> = []
    let size = 0
    let i = lo
    while (i < hi) {
      const s = segmentOf(i)!
      const k0 = i - s.first
      const k1 = Math.min(hi - s.first, s.offsets.length)
      const from = s.offsets[k0]!
      const to = k1 < s.offsets.length ? s.offsets[k1]! : s.size
      const buf = readAt(s.fd, from, to - from)
      let pos = 0
      for (let k = k0; k < k1; k++, i++) {
        const r = decodeRecord(buf, pos, i)
        if (typeof r === "string") throw fail("entries", "Corrupt", `raft log: record ${i} in ${s.file}: ${r}`)
        size += entrySize(r.entry)
        if (out.length > 0 && size > maxBytes) return out
        out.push(r.entry)
        pos = r.next
      }
    }
    return out
  }

  const store: LogStoreShape = {
    firstIndex: Effect.sync(firstIndex),
    lastIndex: Effect.sync(lastIndex),
    term: (index) => Effect.sync(() => Option.fromNullable(termAt(index))),
    entries: (lo, hi, maxBytes = Number.MAX_SAFE_INTEGER) =>
      Effect.suspend(() => {
        const err = rangeError("entries", lo, hi, firstIndex(), lastIndex())
        return err ? Effect.fail(err) : io("entries", () => read(lo, hi, maxBytes))
      }),
    append,
    truncateSuffix: (from) => io("truncateSuffix", () => truncate(from)),
    compactPrefix: (upTo) => io("compactPrefix", () => compact(upTo))
  }
  const close = () => {
    for (const s of segments) {
      try {
        fs.closeSync(s.fd)
      } catch {
        // already closed
      }
    }
    segments.length = 0
  }
  return { store, notes, close }
}
