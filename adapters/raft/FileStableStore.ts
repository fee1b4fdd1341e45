/**
 * The durable StableStore: one file `RaftDataDir/stable` with two 4 KiB slots written alternately.
 *
 * Slot: [4 bytes "ORST"][u64 BE sequence][u32 BE length][u32 BE CRC-32 of sequence+length+payload][payload]
 * with payload = JSON {"hardState":{term,vote,commit},"meta":{...}}. Each write goes to the slot the
 * previous write did not use (pwrite + fdatasync), so a torn write damages only the slot being written and
 * the other slot still holds the previous state: a write is atomic without a rename. On open the valid slot
 * with the higher sequence wins. (The same double-buffer idea as TigerBeetle's superblock copies.)
 */
import { Effect, Option, Schema } from "effect"
import * as fs from "node:fs"
import * as zlib from "node:zlib"
import type { StableStoreShape } from "../../core/raft/ports/StableStore.js"
import { RaftStorageError } from "../../core/raft/ports/StorageError.js"
import { emptyHardState, HardState } from "../../core/raft/Types.js"
import { describe, fsyncDir, isEnoent, join, readAt, writeAt } from "./Fs.js"

const slotBytes = 4096
const headerBytes = 20
const magic = Buffer.from("ORST", "ascii")

const Payload = Schema.Struct({ hardState: HardState, meta: Schema.Record({ key: Schema.String, value: Schema.String }) })
type Payload = typeof Payload.Type
const decodePayload = Schema.decodeUnknownOption(Schema.parseJson(Payload))

interface Slot {
  readonly seq: bigint
  readonly payload: Payload
}

const parseSlot = (buf: Buffer): Slot | undefined => {
  if (buf.length < headerBytes || !buf.subarray(0, 4).equals(magic)) return undefined
  const len = buf.readUInt32BE(12)
  if (len > slotBytes - headerBytes || headerBytes + len > buf.length) return undefined
  const crc = zlib.crc32(buf.subarray(headerBytes, headerBytes + len), zlib.crc32(buf.subarray(4, 16)))
  if (crc !== buf.readUInt32BE(16)) return undefined
  const payload = decodePayload(buf.subarray(headerBytes, headerBytes + len).toString("utf8"))
  return Option.isSome(payload) ? { seq: buf.readBigUInt64BE(4), payload: payload.value } : undefined
}

const encodeSlot = (seq: bigint, payload: Payload): Buffer => {
  const body = Buffer.from(JSON.stringify(payload), "utf8")
  if (headerBytes + body.length > slotBytes) {
    throw new RaftStorageError({
      op: "write",
      reason: "Invalid",
      message: `stable state of ${body.length} bytes exceeds the ${slotBytes - headerBytes}-byte slot`
    })
  }
  const buf = Buffer.alloc(headerBytes + body.length)
  magic.copy(buf, 0)
  buf.writeBigUInt64BE(seq, 4)
  buf.writeUInt32BE(body.length, 12)
  body.copy(buf, headerBytes)
  buf.writeUInt32BE(zlib.crc32(body, zlib.crc32(buf.subarray(4, 16))), 16)
  return buf
}

export interface OpenedStable {
  readonly store: StableStoreShape
  readonly notes: ReadonlyArray<string>
  readonly close: () => void
}

/** Opens (creating if needed) `dir/stable`. Fails Corrupt when both slots were written and neither is valid. */
export const open = (dir: string): OpenedStable => {
  const file = join(dir, "stable")
  const notes: Array<string> = []
  let fd: number
  let created = false
  try {
    fd = fs.openSync(file, "r+")
  } catch (cause) {
    if (!isEnoent(cause)) throw cause
    fd = fs.openSync(file, "w+")
    created = true
  }
  if (created) fsyncDir(dir)
  const raw = [readAt(fd, 0, slotBytes), readAt(fd, slotBytes, slotBytes)]
  const slots = raw.map(parseSlot)
  let current: Slot = { seq: 0n, payload: { hardState: emptyHardState, meta: {} } }
  for (const s of slots) if (s !== undefined && s.seq > current.seq) current = s
  if (slots.every((s) => s === undefined)) {
    const written = raw.filter((b) => b.some((byte) => byte !== 0)).length
    if (written === 2) {
      fs.closeSync(fd)
      throw new RaftStorageError({
        op: "open",
        reason: "Corrupt",
        message: `${file}: both slots are damaged; refusing to start with a forgotten term and vote`
      })
    }
    if (written === 1) notes.push(`raft stable: ${file} holds only a torn first write; starting from the empty state`)
  }

  const write = (payload: Payload) => {
    const seq = current.seq + 1n
    const buf = encodeSlot(seq, payload)
    writeAt(fd, buf, Number(seq % 2n) * slotBytes)
    fs.fdatasyncSync(fd)
    current = { seq, payload }
  }
  const io = <A>(op: string, f: () => A): Effect.Effect<A, RaftStorageError> =>
    Effect.try({
      try: f,
      catch: (cause) =>
        cause instanceof RaftStorageError
          ? cause
          : new RaftStorageError({ op, reason: "Io", message: `raft stable ${op}: ${describe(cause)}`, cause })
    })

  const store: StableStoreShape = {
    readHardState: Effect.sync(() => current.payload.hardState),
    writeHardState: (hardState) =>
      io("writeHardState", () =>
        write({
          hardState: { term: hardState.term, vote: hardState.vote, commit: hardState.commit },
          meta: current.payload.meta
        })),
    getMeta: (key) =>
      Effect.sync(() => Object.hasOwn(current.payload.meta, key) ? Option.some(current.payload.meta[key]!) : Option.none()),
    setMeta: (key, value) =>
      io("setMeta", () => write({ hardState: current.payload.hardState, meta: { ...current.payload.meta, [key]: value } }))
  }
  return {
    store,
    notes,
    close: () => {
      try {
        fs.closeSync(fd)
      } catch {
        // already closed
      }
    }
  }
}
