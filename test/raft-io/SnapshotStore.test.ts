/**
 * The SnapshotStore contract (core/raft/ports/SnapshotStore.ts) on the memory and the file store, plus the
 * file store's own crash behaviour (atomic publish, damaged snapshots moved aside, resumable receive).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as zlib from "node:zlib"
import { Effect, Either, Layer, Option } from "effect"
import { afterAll } from "vitest"
import * as RaftStorage from "../../adapters/raft/RaftStorage.js"
import { bytesToWire, crc32, wireToBytes } from "../../core/raft/ports/Checksum.js"
import * as Snapshots from "../../core/raft/ports/SnapshotStore.js"
import { SnapshotStore } from "../../core/raft/ports/SnapshotStore.js"
import { SnapshotOffsetMismatch } from "../../core/raft/ports/StorageError.js"
import type { SnapshotMeta } from "../../core/raft/Types.js"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "orc-raftsnap-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
let n = 0

const meta = (index: number, term = 1): SnapshotMeta => ({ index, term, conf: { voters: ["a", "b", "c"] } })
const bytes = (size: number, seed = 1): Uint8Array => {
  const out = new Uint8Array(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) % 2147483648
    out[i] = x >>> 16
  }
  return out
}

interface Disk {
  readonly open: () => Layer.Layer<SnapshotStore, unknown>
}

const suite = (name: string, freshDisk: (retain: number) => Disk) =>
  describe(`SnapshotStore contract on ${name}`, () => {
    const on = <A, E>(disk: Disk, body: (s: SnapshotStore["Type"]) => Effect.Effect<A, E>) =>
      Effect.flatMap(SnapshotStore, body).pipe(Effect.provide(disk.open()))

    it.effect("create, latest, read by chunks, readAll, and retention of the newest N", () =>
      Effect.gen(function*() {
        const disk = freshDisk(2)
        yield* on(disk, (s) =>
          Effect.gen(function*() {
            assert.isTrue(Option.isNone(yield* s.latest))
            const data = bytes(10_000)
            const info = yield* s.create(meta(10), data)
            assert.deepStrictEqual(info, { meta: meta(10), size: 10_000, crc32: crc32(data) })
            assert.deepStrictEqual(yield* s.latest, Option.some(info))
            const chunks: Array<Uint8Array> = []
            let offset = 0
            for (;;) {
              const c = yield* s.read(meta(10), offset, 3000)
              chunks.push(c.data)
              offset += c.data.length
              if (c.done) break
            }
            assert.deepStrictEqual(chunks.map((c) => c.length), [3000, 3000, 3000, 1000])
            assert.deepStrictEqual(Buffer.concat(chunks), Buffer.from(data))
            assert.deepStrictEqual(Buffer.from(yield* s.readAll(meta(10))), Buffer.from(data))
            yield* s.create(meta(20, 2), bytes(10, 2))
            yield* s.create(meta(15), bytes(10, 3))
            yield* s.create(meta(30, 2), bytes(0))
            assert.deepStrictEqual((yield* s.list).map((i) => i.meta.index), [30, 20])
            const gone = yield* Effect.either(s.read(meta(10), 0, 100))
            assert.isTrue(Either.isLeft(gone) && gone.left._tag === "SnapshotStoreError" && gone.left.reason === "NotFound")
            // Same (term, index) again keeps the existing snapshot.
            const again = yield* s.create(meta(30, 2), bytes(5))
            assert.strictEqual(again.size, 0)
          }))
        // A reopen sees the same snapshots.
        const after = yield* on(disk, (s) => s.list)
        assert.deepStrictEqual(after.map((i) => [i.meta.index, i.size]), [[30, 0], [20, 10]])
      }))

    it.effect("chunked receive: offsets are checked, duplicates refused with the expected offset, finalize verifies", () =>
      on(freshDisk(3), (s) =>
        Effect.gen(function*() {
          const data = bytes(5000, 7)
          const r = yield* s.receive(meta(40, 3))
          assert.strictEqual(yield* r.expectedOffset, 0)
          assert.strictEqual(yield* r.write(0, data.subarray(0, 2000)), 2000)
          const dup = yield* Effect.either(r.write(0, data.subarray(0, 2000)))
          assert.deepStrictEqual(Either.isLeft(dup) && dup.left, new SnapshotOffsetMismatch({ offset: 0, expected: 2000 }))
          const ahead = yield* Effect.either(r.write(4000, data.subarray(4000)))
          assert.isTrue(Either.isLeft(ahead) && ahead.left._tag === "SnapshotOffsetMismatch" && ahead.left.expected === 2000)
          // Asking for the same meta again resumes at the expected offset.
          const r2 = yield* s.receive(meta(40, 3))
          assert.strictEqual(yield* r2.expectedOffset, 2000)
          assert.strictEqual(yield* r2.write(2000, data.subarray(2000)), 5000)
          assert.isTrue(Option.isNone(yield* s.latest))
          const info = yield* r2.finalize({ size: 5000, crc32: crc32(data) })
          assert.deepStrictEqual(yield* s.latest, Option.some(info))
          assert.deepStrictEqual(Buffer.from(yield* s.readAll(meta(40, 3))), Buffer.from(data))
        })))

    it.effect("a checksum mismatch at finalize is rejected and the transfer restarts at 0", () =>
      on(freshDisk(3), (s) =>
        Effect.gen(function*() {
          const data = bytes(3000, 9)
          const r = yield* s.receive(meta(50))
          yield* r.write(0, data)
          const bad = yield* Effect.either(r.finalize({ size: 3000, crc32: (crc32(data) + 1) >>> 0 }))
          assert.isTrue(Either.isLeft(bad) && bad.left._tag === "SnapshotStoreError" && bad.left.reason === "ChecksumMismatch")
          assert.isTrue(Option.isNone(yield* s.latest))
          const r2 = yield* s.receive(meta(50))
          assert.strictEqual(yield* r2.expectedOffset, 0)
          yield* r2.write(0, data)
          const wrongSize = yield* Effect.either(r2.finalize({ size: 2999, crc32: crc32(data) }))
          assert.isTrue(Either.isLeft(wrongSize))
        })))

    it.effect("receiving another snapshot discards the partial one; abort discards it too", () =>
      on(freshDisk(3), (s) =>
        Effect.gen(function*() {
          const r = yield* s.receive(meta(60))
          yield* r.write(0, bytes(100))
          const other = yield* s.receive(meta(61))
          assert.strictEqual(yield* other.expectedOffset, 0)
          assert.isTrue(Either.isLeft(yield* Effect.either(r.write(100, bytes(10)))))
          yield* other.write(0, bytes(10))
          yield* other.abort
          assert.strictEqual(yield* (yield* s.receive(meta(61))).expectedOffset, 0)
        })))
  })

suite("memory", (retain) => {
  const disk = Snapshots.makeMemorySnapshotDisk()
  return { open: () => Snapshots.layerMemory({ disk, retain }) }
})

const fileDisk = (retain: number) => {
  const dataDir = path.join(root, `d${++n}`)
  return { dataDir, open: () => RaftStorage.layer({ dataDir, retainSnapshots: retain }) }
}
suite("files", fileDisk)

describe("file snapshot store on disk", () => {
  const on = <A, E>(dataDir: string, body: (s: SnapshotStore["Type"]) => Effect.Effect<A, E>) =>
    Effect.flatMap(SnapshotStore, body).pipe(Effect.provide(RaftStorage.layer({ dataDir })))

  it.effect("layout is snapshots/<term>-<index>/{meta.json,state.bin} with size and CRC in meta.json", () =>
    Effect.gen(function*() {
      const { dataDir } = fileDisk(3)
      const data = bytes(1234)
      yield* on(dataDir, (s) => s.create(meta(7, 2), data))
      const dir = path.join(dataDir, "snapshots", "2-7")
      assert.deepStrictEqual(fs.readdirSync(dir).sort(), ["meta.json", "state.bin"])
      const m = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"))
      assert.deepStrictEqual(m, { version: 1, term: 2, index: 7, conf: meta(7).conf, size: 1234, crc32: zlib.crc32(data) })
    }))

  it.effect("a damaged snapshot is moved aside on open and latest falls back to the previous one", () =>
    Effect.gen(function*() {
      const { dataDir } = fileDisk(3)
      yield* on(dataDir, (s) => Effect.all([s.create(meta(1), bytes(100)), s.create(meta(2), bytes(100, 5))]))
      const state = path.join(dataDir, "snapshots", "1-2", "state.bin")
      const buf = fs.readFileSync(state)
      buf[50] ^= 1
      fs.writeFileSync(state, buf)
      fs.mkdirSync(path.join(dataDir, "snapshots", ".tmp-1-3-abc"))
      const latest = yield* on(dataDir, (s) => s.latest)
      assert.strictEqual(Option.getOrThrow(latest).meta.index, 1)
      const names = fs.readdirSync(path.join(dataDir, "snapshots")).sort()
      assert.deepStrictEqual(names, [".corrupt-1-2", "1-1"])
    }))

  it.effect("a partial receive resumes after a restart at the durable offset", () =>
    Effect.gen(function*() {
      const { dataDir } = fileDisk(3)
      const data = bytes(9000, 11)
      yield* on(dataDir, (s) =>
        Effect.gen(function*() {
          const r = yield* s.receive(meta(70, 4))
          yield* r.write(0, data.subarray(0, 4000))
        }))
      // A torn chunk after the acknowledged offset (written, not acknowledged) is cut back on resume.
      fs.appendFileSync(path.join(dataDir, "snapshots", ".receiving-4-70", "state.bin"), Buffer.from("torn"))
      const info = yield* on(dataDir, (s) =>
        Effect.gen(function*() {
          const r = yield* s.receive(meta(70, 4))
          assert.strictEqual(yield* r.expectedOffset, 4000)
          yield* r.write(4000, data.subarray(4000))
          return yield* r.finalize({ size: 9000, crc32: crc32(data) })
        }))
      assert.strictEqual(info.size, 9000)
      assert.deepStrictEqual(fs.readdirSync(path.join(dataDir, "snapshots")), ["4-70"])
    }))
})

describe("wire encoding of snapshot chunks", () => {
  it("latin1 strings round-trip every byte, through JSON too, and CRC-32 matches zlib", () => {
    const data = bytes(70_000, 3)
    const wire = bytesToWire(data)
    assert.strictEqual(wire.length, data.length)
    assert.deepStrictEqual(Buffer.from(wireToBytes(JSON.parse(JSON.stringify(wire)))!), Buffer.from(data))
    assert.isUndefined(wireToBytes("\u0100"))
    assert.strictEqual(crc32(data), zlib.crc32(data))
    assert.strictEqual(crc32(data.subarray(10), crc32(data.subarray(0, 10))), zlib.crc32(data))
  })
})
