/**
 * The durable SnapshotStore: `RaftDataDir/snapshots/<term>-<index>/{meta.json,state.bin}` (orchestrator's
 * layout without the `-<unixms>` suffix, compat spec §1.5).
 *
 * A snapshot is written into `.tmp-<name>-<random>/`, both files fsync'ed, the directory fsync'ed, then
 * renamed to `<name>` and `snapshots/` fsync'ed: after a crash it is either complete or absent (leftover
 * `.tmp-*` directories are removed on open). meta.json carries the size and CRC-32 of state.bin; on open
 * every snapshot is verified and a damaged one is moved aside to `.corrupt-<name>` with a log line.
 * Deletion (retention) renames to `.tmp-…` first, so it is atomic too.
 *
 * A follower's partial receive lives in `.receiving-<name>/` with state.bin and `progress`, a 16-byte
 * record [f64 BE acknowledged offset][u32 BE running CRC-32][u32 BE CRC-32 of the first 12 bytes], written
 * after state.bin is fsync'ed. A restart resumes at the acknowledged offset (state.bin is cut back to it);
 * a damaged progress record restarts the transfer at 0.
 */
import { Effect, Option, Schema } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import type { Checksum, SnapshotInfo, SnapshotReceiver, SnapshotStoreShape } from "../../core/raft/ports/SnapshotStore.js"
import {
  checkRead,
  checksumError,
  defaultRetain,
  newestFirst,
  notFound,
  sameSnapshot,
  snapshotName
} from "../../core/raft/ports/SnapshotStore.js"
import { SnapshotOffsetMismatch, SnapshotStoreError, type SnapshotErrorReason } from "../../core/raft/ports/StorageError.js"
import { SnapshotMeta } from "../../core/raft/Types.js"
import { describe, fsyncDir, isEnoent, join, readAt, writeAt, writeFileDurable } from "./Fs.js"

const MetaFile = Schema.Struct({
  version: Schema.Literal(1),
  term: SnapshotMeta.fields.term,
  index: SnapshotMeta.fields.index,
  conf: SnapshotMeta.fields.conf,
  size: Schema.Int.pipe(Schema.nonNegative()),
  crc32: Schema.Int.pipe(Schema.nonNegative())
})
const decodeMetaFile = Schema.decodeUnknownEither(Schema.parseJson(MetaFile))

const fail = (op: string, reason: SnapshotErrorReason, message: string, cause?: unknown) =>
  new SnapshotStoreError({ op, reason, message, ...(cause === undefined ? {} : { cause }) })

const io = <A>(op: string, f: () => A): Effect.Effect<A, SnapshotStoreError> =>
  Effect.try({
    try: f,
    catch: (cause) =>
      cause instanceof SnapshotStoreError
        ? cause
        : fail(op, isEnoent(cause) ? "NotFound" : "Io", `raft snapshots ${op}: ${describe(cause)}`, cause)
  })

const metaJson = (info: SnapshotInfo): Buffer =>
  Buffer.from(
    JSON.stringify({ version: 1, term: info.meta.term, index: info.meta.index, conf: info.meta.conf, size: info.size, crc32: info.crc32 }, null, 2),
    "utf8"
  )

const nameRe = /^(\d+)-(\d+)$/

export interface FileSnapshotStoreOptions {
  /** RaftDataDir/snapshots */
  readonly dir: string
  /** Complete snapshots kept (RaftRetainSnapshots); default 3. */
  readonly retain?: number
}

export interface OpenedSnapshots {
  readonly store: SnapshotStoreShape
  readonly notes: ReadonlyArray<string>
  readonly close: () => void
}

interface Receiving {
  readonly meta: SnapshotMeta
  readonly dir: string
  fd: number
  offset: number
  crc: number
}

const progressRecord = (offset: number, crc: number): Buffer => {
  const buf = Buffer.alloc(16)
  buf.writeDoubleBE(offset, 0)
  buf.writeUInt32BE(crc, 8)
  buf.writeUInt32BE(zlib.crc32(buf.subarray(0, 12)), 12)
  return buf
}

const parseProgress = (buf: Buffer): { offset: number; crc: number } | undefined => {
  if (buf.length < 16 || zlib.crc32(buf.subarray(0, 12)) !== buf.readUInt32BE(12)) return undefined
  const offset = buf.readDoubleBE(0)
  return Number.isSafeInteger(offset) && offset >= 0 ? { offset, crc: buf.readUInt32BE(8) } : undefined
}

/** Verifies one complete snapshot directory; returns its info or why it is unusable. */
const verify = (dir: string): SnapshotInfo | string => {
  let text: string
  try {
    text = fs.readFileSync(join(dir, "meta.json"), "utf8")
  } catch (cause) {
    return `meta.json unreadable: ${describe(cause)}`
  }
  const m = decodeMetaFile(text)
  if (m._tag === "Left") return "meta.json is malformed"
  let data: Buffer
  try {
    data = fs.readFileSync(join(dir, "state.bin"))
  } catch (cause) {
    return `state.bin unreadable: ${describe(cause)}`
  }
  const crc = zlib.crc32(data)
  if (data.length !== m.right.size || crc !== m.right.crc32) {
    return `state.bin has size ${data.length} crc32 ${crc}, meta.json says size ${m.right.size} crc32 ${m.right.crc32}`
  }
  return { meta: { term: m.right.term, index: m.right.index, conf: m.right.conf }, size: m.right.size, crc32: m.right.crc32 }
}

export const open = (options: FileSnapshotStoreOptions): OpenedSnapshots => {
  const root = options.dir
  const retain = Math.max(1, options.retain ?? defaultRetain)
  const notes: Array<string> = []
  fs.mkdirSync(root, { recursive: true })
  const infos = new Map<string, SnapshotInfo>()
  for (const name of fs.readdirSync(root)) {
    const full = join(root, name)
    if (name.startsWith(".tmp-")) {
      fs.rmSync(full, { recursive: true, force: true })
      notes.push(`raft snapshots: removed leftover ${name}`)
      continue
    }
    const m = nameRe.exec(name)
    if (m === null) continue
    const v = verify(full)
    if (typeof v === "string" || snapshotName(v.meta) !== name) {
      const aside = join(root, `.corrupt-${name}`)
      fs.rmSync(aside, { recursive: true, force: true })
      fs.renameSync(full, aside)
      notes.push(`raft snapshots: ${name} is damaged (${typeof v === "string" ? v : "name differs from meta.json"}); moved to .corrupt-${name}`)
      continue
    }
    infos.set(name, v)
  }
  fsyncDir(root)

  const sorted = () => Array.from(infos.values()).sort(newestFirst)
  const tmpDir = (name: string) => join(root, `.tmp-${name}-${crypto.randomBytes(6).toString("hex")}`)
  const removeDir = (name: string) => {
    const doomed = tmpDir(name)
    fs.renameSync(join(root, name), doomed)
    fsyncDir(root)
    fs.rmSync(doomed, { recursive: true, force: true })
  }
  const applyRetention = () => {
    for (const old of sorted().slice(retain)) {
      const name = snapshotName(old.meta)
      infos.delete(name)
      removeDir(name)
    }
  }
  /** Moves a finished directory (state.bin fsync'ed) into place under `name`. */
  const publish = (dir: string, info: SnapshotInfo): SnapshotInfo => {
    const name = snapshotName(info.meta)
    const existing = infos.get(name)
    if (existing !== undefined) {
      fs.rmSync(dir, { recursive: true, force: true })
      return existing
    }
    writeFileDurable(join(dir, "meta.json"), metaJson(info))
    fsyncDir(dir)
    fs.renameSync(dir, join(root, name))
    fsyncDir(root)
    infos.set(name, info)
    applyRetention()
    return info
  }

  const create = (meta: SnapshotMeta, data: Uint8Array): SnapshotInfo => {
    const existing = infos.get(snapshotName(meta))
    if (existing !== undefined) return existing
    const dir = tmpDir(snapshotName(meta))
    fs.mkdirSync(dir)
    writeFileDurable(join(dir, "state.bin"), data)
    return publish(dir, { meta, size: data.length, crc32: zlib.crc32(data) })
  }

  const find = (op: string, meta: SnapshotMeta): SnapshotInfo => {
    const info = infos.get(snapshotName(meta))
    if (info === undefined || !sameSnapshot(info.meta, meta)) throw notFound(op, meta)
    return info
  }

  const read = (meta: SnapshotMeta, offset: number, maxBytes: number) => {
    const bad = checkRead("read", offset, maxBytes)
    if (bad) throw bad
    const info = find("read", meta)
    const fd = fs.openSync(join(root, snapshotName(meta), "state.bin"), "r")
    try {
      const end = Math.min(info.size, offset + maxBytes)
      const data = readAt(fd, Math.min(offset, end), end - Math.min(offset, end))
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), done: end >= info.size }
    } finally {
      fs.closeSync(fd)
    }
  }

  const readAll = (meta: SnapshotMeta): Uint8Array => {
    const info = find("readAll", meta)
    const data = fs.readFileSync(join(root, snapshotName(meta), "state.bin"))
    const got: Checksum = { size: data.length, crc32: zlib.crc32(data) }
    if (got.size !== info.size || got.crc32 !== info.crc32) {
      throw fail("readAll", "Corrupt", checksumError("readAll", `snapshot ${snapshotName(meta)}`, info, got).message)
    }
    return new Uint8Array(data.buffer, data.byteOffset, data.length)
  }

  // ---- follower side of InstallSnapshot
  let receiving: Receiving | undefined
  const receivingDir = (meta: SnapshotMeta) => join(root, `.receiving-${snapshotName(meta)}`)
  const closeReceiving = (r: Receiving) => {
    if (r.fd >= 0) fs.closeSync(r.fd)
    r.fd = -1
  }
  const dropReceiving = () => {
    if (receiving !== undefined) closeReceiving(receiving)
    receiving = undefined
    for (const name of fs.readdirSync(root)) {
      if (name.startsWith(".receiving-")) fs.rmSync(join(root, name), { recursive: true, force: true })
    }
  }
  const startReceive = (meta: SnapshotMeta): Receiving => {
    if (receiving !== undefined && sameSnapshot(receiving.meta, meta)) return receiving
    if (receiving !== undefined) closeReceiving(receiving)
    receiving = undefined
    const dir = receivingDir(meta)
    // Resume a receive that survived a restart, else start clean.
    let resumed: { offset: number; crc: number } | undefined
    if (fs.existsSync(dir)) {
      try {
        resumed = parseProgress(fs.readFileSync(join(dir, "progress")))
        if (resumed !== undefined && fs.statSync(join(dir, "state.bin")).size < resumed.offset) resumed = undefined
      } catch {
        resumed = undefined
      }
      if (resumed === undefined) notes.push(`raft snapshots: partial receive ${snapshotName(meta)} unusable, restarting at 0`)
    }
    for (const name of fs.readdirSync(root)) {
      if (name.startsWith(".receiving-") && (resumed === undefined || join(root, name) !== dir)) {
        fs.rmSync(join(root, name), { recursive: true, force: true })
      }
    }
    if (resumed === undefined) {
      fs.mkdirSync(dir)
      writeFileDurable(join(dir, "progress"), progressRecord(0, 0))
      writeFileDurable(join(dir, "state.bin"), new Uint8Array(0))
      fsyncDir(dir)
      fsyncDir(root)
      resumed = { offset: 0, crc: 0 }
    }
    const fd = fs.openSync(join(dir, "state.bin"), "r+")
    fs.ftruncateSync(fd, resumed.offset)
    receiving = { meta, dir, fd, offset: resumed.offset, crc: resumed.crc }
    return receiving
  }

  const receiver = (meta: SnapshotMeta): SnapshotReceiver => {
    const current = (op: string): Receiving => {
      if (receiving === undefined || !sameSnapshot(receiving.meta, meta) || receiving.fd < 0) {
        throw fail(op, "Invalid", `receive of ${snapshotName(meta)} was finalized, aborted or replaced`)
      }
      return receiving
    }
    return {
      meta,
      expectedOffset: Effect.sync(() =>
        receiving !== undefined && sameSnapshot(receiving.meta, meta) ? receiving.offset : 0
      ),
      write: (offset, data) =>
        Effect.suspend((): Effect.Effect<number, SnapshotStoreError | SnapshotOffsetMismatch> => {
          if (receiving !== undefined && sameSnapshot(receiving.meta, meta) && offset !== receiving.offset) {
            return Effect.fail(new SnapshotOffsetMismatch({ offset, expected: receiving.offset }))
          }
          return io("receive.write", () => {
            const r = current("receive.write")
            writeAt(r.fd, data, r.offset)
            fs.fdatasyncSync(r.fd)
            const offset = r.offset + data.length
            const crc = zlib.crc32(data, r.crc)
            const pfd = fs.openSync(join(r.dir, "progress"), "r+")
            try {
              writeAt(pfd, progressRecord(offset, crc), 0)
              fs.fdatasyncSync(pfd)
            } finally {
              fs.closeSync(pfd)
            }
            r.offset = offset
            r.crc = crc
            return offset
          })
        }),
      finalize: (expected) =>
        io("receive.finalize", () => {
          const r = current("receive.finalize")
          fs.fsyncSync(r.fd)
          closeReceiving(r)
          receiving = undefined
          const data = fs.readFileSync(join(r.dir, "state.bin"))
          const got: Checksum = { size: data.length, crc32: zlib.crc32(data) }
          const mismatch = got.size !== r.offset || got.crc32 !== r.crc
            ? checksumError("receive.finalize", "stored bytes", { size: r.offset, crc32: r.crc }, got)
            : expected !== undefined && (expected.size !== got.size || expected.crc32 !== got.crc32)
            ? checksumError("receive.finalize", `snapshot ${snapshotName(meta)}`, expected, got)
            : undefined
          if (mismatch !== undefined) {
            fs.rmSync(r.dir, { recursive: true, force: true })
            throw mismatch
          }
          fs.rmSync(join(r.dir, "progress"))
          return publish(r.dir, { meta, size: got.size, crc32: got.crc32 })
        }),
      abort: io("receive.abort", () => {
        if (receiving !== undefined && sameSnapshot(receiving.meta, meta)) dropReceiving()
      })
    }
  }

  const store: SnapshotStoreShape = {
    create: (meta, data) => io("create", () => create(meta, data)),
    latest: Effect.sync(() => Option.fromNullable(sorted()[0])),
    list: Effect.sync(sorted),
    read: (meta, offset, maxBytes) => io("read", () => read(meta, offset, maxBytes)),
    readAll: (meta) => io("readAll", () => readAll(meta)),
    receive: (meta) => io("receive", () => (startReceive(meta), receiver(meta)))
  }
  return {
    store,
    notes,
    close: () => {
      if (receiving !== undefined) closeReceiving(receiving)
      receiving = undefined
    }
  }
}
