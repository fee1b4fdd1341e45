/**
 * Crash behaviour of the durable log and stable store: torn and corrupted tails are cut on open with a log
 * line and never returned; a process killed with SIGKILL loses nothing it acknowledged.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Either, Layer, Logger } from "effect"
import { afterAll } from "vitest"
import * as FileLogStore from "../../adapters/raft/FileLogStore.js"
import * as FileStableStore from "../../adapters/raft/FileStableStore.js"
import * as RaftStorage from "../../adapters/raft/RaftStorage.js"
import * as LogStore from "../../core/raft/ports/LogStore.js"
import type { Entry } from "../../core/raft/Types.js"
import { crashEntry } from "./fixtures/crashEntry.js"
import { ent, range } from "./logStoreSuite.js"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "orc-raftcrash-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => path.join(root, `d${++n}`)

/** Appends finish asynchronously (the fdatasync runs on libuv's pool), so these helpers are async. */
const withLog = async <A>(dir: string, f: (log: FileLogStore.OpenedLog) => A | Promise<A>, segmentBytes = 1 << 20): Promise<A> => {
  const log = FileLogStore.open({ dir: path.join(dir, "log"), segmentBytes })
  try {
    return await f(log)
  } finally {
    log.close()
  }
}
const lastSegment = (dir: string) => {
  const names = fs.readdirSync(path.join(dir, "log")).sort()
  return path.join(dir, "log", names[names.length - 1]!)
}
const contents = (log: FileLogStore.OpenedLog) =>
  Effect.runSync(Effect.gen(function*() {
    const first = yield* log.store.firstIndex
    const last = yield* log.store.lastIndex
    return { first, last, entries: yield* log.store.entries(first, last + 1) }
  }))
const write = (dir: string, entries: ReadonlyArray<Entry>, segmentBytes?: number) =>
  withLog(dir, (log) => Effect.runPromise(log.store.append(entries)), segmentBytes)

describe("segment log recovery", async () => {
  it("a flipped byte in the last record: the record is cut on open, earlier entries intact", async () => {
    const dir = freshDir()
    await write(dir, range(1, 20, 1))
    const file = lastSegment(dir)
    const buf = fs.readFileSync(file)
    buf[buf.length - 3] ^= 0x55
    fs.writeFileSync(file, buf)
    await withLog(dir, async (log) => {
      assert.deepStrictEqual(contents(log), { first: 1, last: 19, entries: range(1, 19, 1) })
      assert.strictEqual(log.notes.length, 1)
      assert.match(log.notes[0]!, /torn or corrupt record .*index 20: CRC mismatch/)
      // The log continues where it was cut.
      await Effect.runPromise(log.store.append([ent(20, 2)]))
    })
    await withLog(dir, async (log) => {
      assert.deepStrictEqual(contents(log).entries.slice(-2), [ent(19, 1), ent(20, 2)])
      assert.deepStrictEqual(log.notes, [])
    })
  })

  it("multi-byte UTF-8 payloads survive a reopen, in one append and across appends", async () => {
    const dir = freshDir()
    const data = ["é", "✓ ok", "😀 emoji", "plain", "日本語のテキスト", ""]
    const entries: Array<Entry> = data.map((d, k) => ({ index: k + 1, term: 1, type: "normal", data: d }))
    await write(dir, entries.slice(0, 4))
    await withLog(dir, (log) => Effect.runPromise(log.store.append(entries.slice(4))))
    await withLog(dir, (log) => {
      assert.deepStrictEqual(contents(log), { first: 1, last: 6, entries })
      assert.deepStrictEqual(log.notes, [])
    })
  })

  it("a file cut in the middle of a record (torn write) loses only that record", async () => {
    const dir = freshDir()
    await write(dir, range(1, 10, 1))
    await write(dir, range(11, 12, 1))
    const file = lastSegment(dir)
    fs.truncateSync(file, fs.statSync(file).size - 5)
    await withLog(dir, async (log) => {
      assert.deepStrictEqual(contents(log), { first: 1, last: 11, entries: range(1, 11, 1) })
      assert.match(log.notes[0]!, /index 12: record of \d+ bytes runs past the end/)
    })
  })

  it("a partial header or trailing garbage after the last record is removed", async () => {
    for (const tail of [Buffer.from([0, 0, 1]), Buffer.alloc(4096), Buffer.from("garbage that is not a record at all")]) {
      const dir = freshDir()
      await write(dir, range(1, 5, 1))
      fs.appendFileSync(lastSegment(dir), tail)
      await withLog(dir, async (log) => {
        assert.deepStrictEqual(contents(log), { first: 1, last: 5, entries: range(1, 5, 1) })
        assert.strictEqual(log.notes.length, 1)
      })
    }
  })

  it("corruption in an earlier segment cuts there and removes every later segment", async () => {
    const dir = freshDir()
    for (let i = 1; i <= 60; i += 5) await write(dir, range(i, i + 4, 1), 256)
    const names = fs.readdirSync(path.join(dir, "log")).sort()
    assert.isAbove(names.length, 3)
    const second = path.join(dir, "log", names[1]!)
    const first2 = Number(names[1]!.slice(0, 20))
    const buf = fs.readFileSync(second)
    buf[12] ^= 0xff // inside the first record's payload
    fs.writeFileSync(second, buf)
    await withLog(dir, async (log) => {
      const c = contents(log)
      assert.strictEqual(c.last, first2 - 1)
      assert.deepStrictEqual(c.entries, range(1, first2 - 1, 1))
      assert.isAtLeast(log.notes.length, 2)
    }, 256)
    assert.strictEqual(fs.readdirSync(path.join(dir, "log")).length, 2)
  })

  it("a bad tail is logged through the layer and never returned", () =>
    Effect.gen(function*() {
      const dir = freshDir()
      yield* Effect.promise(() => write(dir, range(1, 8, 1)))
      fs.appendFileSync(lastSegment(dir), Buffer.from([0, 0, 0, 9, 1, 2, 3]))
      const lines: Array<string> = []
      const logger = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void lines.push(String(message))))
      const last = yield* Effect.provide(
        Effect.flatMap(LogStore.LogStore, (l) => l.lastIndex),
        RaftStorage.layer({ dataDir: dir }).pipe(Layer.provide(logger))
      )
      assert.strictEqual(last, 8)
      assert.isTrue(lines.some((l) => /torn or corrupt record/.test(l)), lines.join("\n"))
    }))
})

describe("stable store recovery", () => {
  const slotOf = (seq: number) => (seq % 2) * 4096
  it("a torn hard-state write falls back to the previous hard state", () => {
    const dir = freshDir()
    fs.mkdirSync(dir)
    const s1 = FileStableStore.open(dir)
    Effect.runSync(s1.store.writeHardState({ term: 1, vote: "a", commit: 0 }))
    Effect.runSync(s1.store.writeHardState({ term: 2, vote: "b", commit: 3 }))
    s1.close()
    const file = path.join(dir, "stable")
    const buf = fs.readFileSync(file)
    buf[slotOf(2) + 30] ^= 0x01
    fs.writeFileSync(file, buf)
    const s2 = FileStableStore.open(dir)
    assert.deepStrictEqual(Effect.runSync(s2.store.readHardState), { term: 1, vote: "a", commit: 0 })
    Effect.runSync(s2.store.writeHardState({ term: 3, vote: "", commit: 3 }))
    s2.close()
    const s3 = FileStableStore.open(dir)
    assert.deepStrictEqual(Effect.runSync(s3.store.readHardState), { term: 3, vote: "", commit: 3 })
    s3.close()
  })

  it("both slots damaged: refuses to open (a forgotten vote could be given twice)", () => {
    const dir = freshDir()
    fs.mkdirSync(dir)
    const s1 = FileStableStore.open(dir)
    Effect.runSync(s1.store.writeHardState({ term: 1, vote: "a", commit: 0 }))
    Effect.runSync(s1.store.writeHardState({ term: 2, vote: "b", commit: 0 }))
    s1.close()
    const file = path.join(dir, "stable")
    const buf = fs.readFileSync(file)
    buf[slotOf(1) + 25] ^= 1
    buf[slotOf(2) + 25] ^= 1
    fs.writeFileSync(file, buf)
    const r = Either.try(() => FileStableStore.open(dir))
    assert.isTrue(Either.isLeft(r))
    if (Either.isLeft(r)) assert.strictEqual((r.left as { reason?: unknown }).reason, "Corrupt")
  })

  it("a torn very first write starts from the empty state", () => {
    const dir = freshDir()
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "stable"), Buffer.concat([Buffer.alloc(4096), Buffer.from("ORST\0\0\0")]))
    const s = FileStableStore.open(dir)
    assert.deepStrictEqual(Effect.runSync(s.store.readHardState), { term: 0, vote: "", commit: 0 })
    assert.strictEqual(s.notes.length, 1)
    s.close()
  })
})

describe("kill -9 while appending", () => {
  const fixture = path.join(import.meta.dirname, "fixtures", "appender.ts")
  const runChild = (dir: string, seed: number, killAfterAcks: number) =>
    new Promise<{ acked: number; start: number }>((resolve, reject) => {
      const child = spawn(process.execPath, ["--import", "tsx", fixture, dir, String(seed)], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      let acked = -1
      let start = -1
      let acks = 0
      let pending = ""
      let stderr = ""
      child.stderr.on("data", (d) => (stderr += d))
      child.stdout.on("data", (d: Buffer) => {
        pending += d.toString()
        const lines = pending.split("\n")
        pending = lines.pop()!
        for (const line of lines) {
          const [what, value] = line.split(" ")
          if (what === "start") start = Number(value)
          if (what === "ack") {
            acked = Number(value)
            if (++acks === killAfterAcks) child.kill("SIGKILL")
          }
        }
      })
      const guard = setTimeout(() => child.kill("SIGKILL"), 20_000)
      child.on("exit", (_code, signal) => {
        clearTimeout(guard)
        if (signal !== "SIGKILL") reject(new Error(`child exited without SIGKILL: ${stderr}`))
        else resolve({ acked, start })
      })
    })

  it("every acknowledged append is present after reopening, and the log is consistent", async () => {
    const dir = freshDir()
    let previousLast = 0
    for (const [round, acks] of [[1, 100], [2, 25], [3, 1]] as const) {
      const { acked, start } = await runChild(dir, round, acks)
      assert.strictEqual(start, previousLast, `round ${round} starts where the last one ended`)
      assert.isAbove(acked, start)
      const log = FileLogStore.open({ dir: path.join(dir, "log"), segmentBytes: 8192 })
      const stable = FileStableStore.open(dir)
      try {
        const c = contents(log)
        assert.isAtLeast(c.last, acked, `round ${round}: acknowledged ${acked}, found ${c.last}`)
        assert.strictEqual(c.first, 1)
        assert.deepStrictEqual(c.entries, Array.from({ length: c.last }, (_, k) => crashEntry(k + 1)))
        const hs = Effect.runSync(stable.store.readHardState)
        assert.isAtLeast(hs.commit, acked)
        assert.isAtMost(hs.commit, c.last)
        previousLast = c.last
      } finally {
        log.close()
        stable.close()
      }
    }
    assert.isAbove(fs.readdirSync(path.join(dir, "log")).length, 1)
  }, 60_000)
})
