/**
 * Raft I/O benchmark: `npx tsx bench/raft-transport.ts`.
 *
 *  1. Transport round trip: node A (this process) sends an AppendEntries-sized message (no entries, as in
 *     docs/benchmarks stack §3(g)) to node B (a child process) and waits for B's AppendEntriesResp; 300
 *     warm-up round trips, then 3000 measured. Both ends are the real TcpTransport (HMAC handshake, framing,
 *     Schema decoding), in SEPARATE processes.
 *  2. One-way throughput A → B: heartbeats, and AppendEntries carrying 64 entries of 100 bytes, with B
 *     acknowledging every 1000 messages and A keeping at most 4000 unacknowledged (flow control, so the
 *     bounded queues do not drop).
 *  3. Durable storage (fsync included): LogStore.append latency for batches of 1 and 64 entries of 200
 *     bytes, and StableStore.writeHardState latency, in a temp RaftDataDir.
 * Prints a table and one JSON line.
 */
import { Effect, Exit, Logger, LogLevel, Queue, Scope } from "effect"
import { spawn } from "node:child_process"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as RaftStorage from "../adapters/raft/RaftStorage.js"
import * as TcpTransport from "../adapters/raft/TcpTransport.js"
import type { Message } from "../core/raft/Message.js"
import { LogStore } from "../core/raft/ports/LogStore.js"
import type { RaftTransportShape } from "../core/raft/ports/RaftTransport.js"
import { StableStore } from "../core/raft/ports/StableStore.js"
import type { Entry } from "../core/raft/Types.js"

const host = "127.0.0.1"
const id = (port: number) => `${host}:${port}`

const transport = (self: number, peer: number, secret: string) =>
  TcpTransport.make({
    self: id(self),
    bind: { host, port: self },
    peers: [id(self), id(peer)],
    secret,
    peerQueueCapacity: 8192,
    inboundCapacity: 8192
  })

// ------------------------------------------------------------------------------------------- child: node B
const echo = (self: number, peer: number, secret: string) =>
  Effect.gen(function*() {
    const b = yield* transport(self, peer, secret)
    let oneWay = 0
    process.stdout.write("ready\n")
    for (;;) {
      const batch = yield* Queue.takeBetween(b.inbound, 1, 4096)
      for (const { message: m } of batch) {
        if (m._tag === "AppendEntries" && m.ctx >= 0) {
          yield* b.send(m.from, {
            _tag: "AppendEntriesResp",
            term: m.term,
            from: b.self,
            to: m.from,
            success: true,
            index: m.prevIndex + m.entries.length,
            hintIndex: 0,
            hintTerm: 0,
            ctx: m.ctx
          })
        } else if (m._tag === "TimeoutNow") {
          oneWay = 0
        } else {
          oneWay++
          if (oneWay % 1000 === 0) yield* b.send(m.from, { _tag: "HeartbeatResp", term: 1, from: b.self, to: m.from, ctx: oneWay })
        }
      }
    }
  }).pipe(Effect.scoped)

// ------------------------------------------------------------------------------------------ parent: node A
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const tryOne = (attempt: number) => {
      const port = 20000 + Math.floor(Math.random() * 12000)
      const s = net.createServer()
      s.once("error", () => (attempt > 100 ? reject(new Error("no free port")) : tryOne(attempt + 1)))
      s.listen(port, host, () => s.close(() => resolve(port)))
    }
    tryOne(0)
  })

const pct = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!
const summary = (samples: Array<number>) => {
  const s = [...samples].sort((x, y) => x - y)
  return { median: pct(s, 50), p99: pct(s, 99), mean: s.reduce((a, b) => a + b, 0) / s.length }
}
const us = (ms: number) => Math.round(ms * 1000)

const roundTrips = (a: RaftTransportShape, to: string, n: number) =>
  Effect.gen(function*() {
    const samples: Array<number> = []
    for (let k = 0; k < n; k++) {
      const t0 = performance.now()
      yield* a.send(to, { _tag: "AppendEntries", term: 3, from: a.self, to, prevIndex: 1000 + k, prevTerm: 3, entries: [], commit: 999 + k, ctx: k })
      for (;;) {
        const r = yield* Queue.take(a.inbound)
        if (r.message._tag === "AppendEntriesResp" && r.message.ctx === k) break
      }
      samples.push(performance.now() - t0)
    }
    return samples
  })

const oneWay = (a: RaftTransportShape, to: string, total: number, make: (k: number) => Message) =>
  Effect.gen(function*() {
    yield* a.send(to, { _tag: "TimeoutNow", term: 1, from: a.self, to })
    const window = 4000
    let acked = 0
    let sent = 0
    const t0 = performance.now()
    while (acked < total) {
      while (sent < total && sent - acked < window) {
        yield* a.send(to, make(sent))
        sent++
        if (sent % 256 === 0) yield* Effect.yieldNow()
      }
      const r = yield* Queue.take(a.inbound)
      if (r.message._tag === "HeartbeatResp") acked = r.message.ctx
    }
    const seconds = (performance.now() - t0) / 1000
    return { messages: total, seconds, perSecond: Math.round(total / seconds) }
  })

const storage = Effect.gen(function*() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-bench-raft-"))
  try {
    return yield* Effect.gen(function*() {
      const log = yield* LogStore
      const stable = yield* StableStore
      const data = "d".repeat(200)
      let next = 1
      const batch = (n: number): Array<Entry> =>
        Array.from({ length: n }, () => ({ term: 1, index: next++, type: "normal" as const, data }))
      const run = (size: number, count: number) =>
        Effect.gen(function*() {
          for (let k = 0; k < 10; k++) yield* log.append(batch(size))
          const samples: Array<number> = []
          const t0 = performance.now()
          for (let k = 0; k < count; k++) {
            const b = batch(size)
            const t = performance.now()
            yield* log.append(b)
            samples.push(performance.now() - t)
          }
          const seconds = (performance.now() - t0) / 1000
          return { ...summary(samples), entriesPerSecond: Math.round((size * count) / seconds) }
        })
      const b1 = yield* run(1, 500)
      const b64 = yield* run(64, 200)
      const hs: Array<number> = []
      for (let k = 0; k < 300; k++) {
        const t = performance.now()
        yield* stable.writeHardState({ term: k, vote: "127.0.0.1:10008", commit: k })
        hs.push(performance.now() - t)
      }
      return { batch1: b1, batch64: b64, hardState: summary(hs) }
    }).pipe(Effect.provide(RaftStorage.layer({ dataDir })))
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
})

const main = Effect.gen(function*() {
  const [pa, pb] = [yield* Effect.promise(freePort), yield* Effect.promise(freePort)]
  const secret = crypto.randomBytes(16).toString("hex")
  const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--echo", String(pb), String(pa), secret], {
    stdio: ["ignore", "pipe", "inherit"]
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => child.kill("SIGTERM")))
  yield* Effect.promise(() => new Promise<void>((resolve) => child.stdout.once("data", () => resolve())))
  const a = yield* transport(pa, pb, secret)
  const b = id(pb)
  const phase = (name: string) => Effect.sync(() => process.stderr.write(`bench: ${name}\n`))
  yield* phase("round trips")
  yield* roundTrips(a, b, 300)
  const rtt = summary(yield* roundTrips(a, b, 3000))
  yield* phase("one-way heartbeats")
  const heartbeats = yield* oneWay(a, b, 100_000, (k) => ({ _tag: "Heartbeat", term: 1, from: a.self, to: b, commit: k, ctx: k }))
  const entries = Array.from({ length: 64 }, (_, k) => ({ term: 1, index: k + 1, type: "normal" as const, data: "e".repeat(100) }))
  yield* phase("one-way AppendEntries")
  const appends = yield* oneWay(a, b, 20_000, (k) => ({
    _tag: "AppendEntries",
    term: 1,
    from: a.self,
    to: b,
    prevIndex: k * 64,
    prevTerm: 1,
    entries,
    commit: 0,
    ctx: -1
  }))
  yield* phase("storage")
  const disk = yield* storage
  const row = (name: string, value: string) => console.log(`| ${name.padEnd(58)} | ${value.padStart(26)} |`)
  console.log(`raft I/O benchmark — ${new Date().toISOString()} — node ${process.version}, ${os.cpus().length} cores`)
  console.log(`| ${"measurement".padEnd(58)} | ${"result".padStart(26)} |`)
  console.log(`| ${"-".repeat(58)} | ${"-".repeat(26)} |`)
  row("TCP round trip, AppendEntries (2 processes), median / p99", `${us(rtt.median)} µs / ${us(rtt.p99)} µs`)
  row("one-way heartbeats A→B", `${heartbeats.perSecond} msg/s`)
  row("one-way AppendEntries of 64×100 B entries A→B", `${appends.perSecond} msg/s (${appends.perSecond * 64} entries/s)`)
  row("durable append, batch of 1 (fsync), median / p99", `${us(disk.batch1.median)} µs / ${us(disk.batch1.p99)} µs`)
  row("durable append, batch of 1: entries/s", `${disk.batch1.entriesPerSecond}`)
  row("durable append, batch of 64 (fsync), median / p99", `${us(disk.batch64.median)} µs / ${us(disk.batch64.p99)} µs`)
  row("durable append, batch of 64: entries/s", `${disk.batch64.entriesPerSecond}`)
  row("writeHardState (fsync), median / p99", `${us(disk.hardState.median)} µs / ${us(disk.hardState.p99)} µs`)
  console.log(JSON.stringify({
    bench: "raft-io",
    date: new Date().toISOString(),
    node: process.version,
    cores: os.cpus().length,
    rttMicros: { median: us(rtt.median), p99: us(rtt.p99), mean: us(rtt.mean), n: 3000 },
    oneWay: { heartbeatsPerSecond: heartbeats.perSecond, appendEntries64PerSecond: appends.perSecond },
    durableAppend: {
      batch1: { medianMicros: us(disk.batch1.median), p99Micros: us(disk.batch1.p99), entriesPerSecond: disk.batch1.entriesPerSecond },
      batch64: { medianMicros: us(disk.batch64.median), p99Micros: us(disk.batch64.p99), entriesPerSecond: disk.batch64.entriesPerSecond }
    },
    hardStateMicros: { median: us(disk.hardState.median), p99: us(disk.hardState.p99) }
  }))
}).pipe(Effect.scoped)

const quiet = Logger.minimumLogLevel(LogLevel.Warning)
if (process.argv[2] === "--echo") {
  const [self, peer, secret] = [Number(process.argv[3]), Number(process.argv[4]), process.argv[5]!]
  const scope = Effect.runSync(Scope.make())
  process.on("SIGTERM", () => Effect.runPromise(Scope.close(scope, Exit.void)).then(() => process.exit(0)))
  Effect.runFork(echo(self, peer, secret).pipe(Scope.extend(scope), Effect.provide(quiet)))
} else {
  Effect.runPromise(main.pipe(Effect.provide(quiet))).then(
    () => process.exit(0),
    (e) => {
      console.error(e)
      process.exit(1)
    }
  )
}
