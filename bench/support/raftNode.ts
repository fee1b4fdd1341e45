/**
 * A bare raft member for `npm run bench -- raft-throughput --mode raft`: the node's own durable storage
 * (RaftStorage: segment log, stable state, snapshots, in a temp dir) and its authenticated TCP transport,
 * with the product's raft defaults (RaftTickMillis 50, RaftSnapshotThreshold 8192, core/raft/Config.ts),
 * around a trivial in-memory state machine (a counter). What it measures is consensus with the durable log,
 * not the HTTP API or the SQLite backend (that is `--mode http`).
 *
 *   argv: <self host:port> <data dir> <all voters, comma-separated>
 *
 * The bench forks three of these; control over IPC:
 *   { cmd: "status" }                       → { isLeader }
 *   { cmd: "cpu" }                          → { cpuMillis } (user + system CPU of the process, all threads)
 *   { cmd: "gc" }                           → { pauses } (GC pauses since the last ask: [epoch ms start, ms])
 *   { cmd: "run", proposers, millis, rate } → { latencies, starts, errors, seconds, loopDelayMs }
 */
import { Effect, Layer, Ref } from "effect"
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks"
import * as RaftStorage from "../../adapters/raft/RaftStorage.js"
import * as TcpTransport from "../../adapters/raft/TcpTransport.js"
import * as RaftConfig from "../../core/raft/Config.js"
import * as RaftNode from "../../core/raft/runtime/RaftNode.js"
import { StateMachine, type StateMachineShape } from "../../core/raft/runtime/StateMachine.js"
import { applyGcTuning } from "../../service/GcTuning.js"

// As the node's CLI does (service/GcTuning.ts): what is measured is the product's process configuration.
applyGcTuning()

const [self, dataDir, votersArg] = process.argv.slice(2) as [string, string, string]
const voters = votersArg.split(",")

/** A proposal the size of a replicated begin-downtime op (~170 bytes of JSON). */
const payload = (n: number) =>
  JSON.stringify({
    _tag: "begin-downtime",
    key: { hostname: `db-${n % 1000}.example.internal`, port: 3306 },
    owner: "bench",
    reason: "raft-throughput",
    endsAt: "2026-12-01T00:00:00.000Z",
    seq: n
  })

/** Counts applied normal entries; a snapshot is the count as text. */
const counterMachine = Effect.gen(function*() {
  const state = yield* Ref.make({ index: 0, count: 0 })
  const shape: StateMachineShape<number> = {
    appliedIndex: Effect.map(Ref.get(state), (s) => s.index),
    apply: (entries) =>
      Ref.modify(state, (s) => {
        let { count, index } = s
        const results: Array<number | undefined> = []
        for (const e of entries) {
          if (e.index <= index) {
            results.push(undefined)
            continue
          }
          index = e.index
          if (e.type === "normal") count++
          results.push(count)
        }
        return [results, { index, count }]
      }),
    snapshot: Effect.map(Ref.get(state), (s) => ({ index: s.index, data: new TextEncoder().encode(String(s.count)) })),
    restore: (index, _term, data) => Ref.set(state, { index, count: Number(new TextDecoder().decode(data)) })
  }
  return shape
})

/** GC pauses of this process ([start, duration] in epoch ms / ms): the bench lines them up with slow proposals. */
const gcPauses: Array<[number, number]> = []
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcPauses.push([performance.timeOrigin + e.startTime, e.duration])
}).observe({ entryTypes: ["gc"] })

interface RunResult {
  readonly latencies: Array<number>
  /** When each answered proposal was scheduled (epoch ms), in the order of `latencies`. */
  readonly starts: Array<number>
  readonly errors: number
  readonly seconds: number
  readonly loopDelayMs: { readonly p99: number; readonly max: number }
}

const program = Effect.gen(function*() {
  const raft = yield* RaftNode.RaftNode
  let n = 0
  /**
   * `rate` 0: closed loop, each proposer proposes again as soon as its last proposal is answered.
   * `rate` > 0: the proposers together offer `rate` proposals/s, each on its own fixed schedule (one timer
   * for all of them, every millisecond, so the load generator costs the leader little); a proposer whose
   * last proposal is still open waits for it. Latency counts from the scheduled time, so a proposal delayed
   * by the one before it is charged for the wait (no coordinated omission).
   */
  const run = (proposers: number, millis: number, rate: number) =>
    Effect.async<RunResult>((resume) => {
      const latencies: Array<number> = []
      const starts: Array<number> = []
      let errors = 0
      let open = 0
      const loopDelay = monitorEventLoopDelay({ resolution: 1 })
      loopDelay.enable()
      const start = performance.now()
      const deadline = start + millis
      const interval = rate > 0 ? (proposers * 1000) / rate : 0
      const next = Array.from({ length: proposers }, (_, w) => start + (interval * w) / proposers)
      const busy = Array.from({ length: proposers }, () => false)
      let timer: ReturnType<typeof setInterval> | undefined
      let resumed = false
      const finish = () => {
        if (resumed || open > 0 || performance.now() < deadline) return
        resumed = true
        if (timer !== undefined) clearInterval(timer)
        loopDelay.disable()
        resume(Effect.succeed({
          latencies,
          starts,
          errors,
          seconds: (performance.now() - start) / 1000,
          loopDelayMs: { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 }
        }))
      }
      const fire = (w: number) => {
        const t0 = interval > 0 ? next[w]! : performance.now()
        next[w]! += interval
        busy[w] = true
        open++
        Effect.runCallback(raft.propose(payload(n++)), {
          onExit: (exit) => {
            open--
            busy[w] = false
            if (exit._tag === "Success") {
              latencies.push(performance.now() - t0)
              starts.push(performance.timeOrigin + t0)
            }
            else errors++
            if (performance.now() >= deadline) return finish()
            if (interval === 0 || next[w]! <= performance.now()) fire(w)
          }
        })
      }
      if (interval === 0) {
        for (let w = 0; w < proposers; w++) fire(w)
      } else {
        timer = setInterval(() => {
          const now = performance.now()
          if (now >= deadline) return finish()
          for (let w = 0; w < proposers; w++) if (!busy[w] && next[w]! <= now) fire(w)
        }, 1)
      }
    })
  yield* Effect.async<never>(() => {
    process.on("message", (m: { cmd: string; proposers?: number; millis?: number; rate?: number }) => {
      if (m.cmd === "gc") {
        process.send!({ pauses: gcPauses.splice(0) })
      } else if (m.cmd === "cpu") {
        const u = process.cpuUsage()
        process.send!({ cpuMillis: (u.user + u.system) / 1000 })
      } else if (m.cmd === "status") {
        void Effect.runPromise(raft.isLeader).then((isLeader) => process.send!({ isLeader }))
      } else if (m.cmd === "run") {
        void Effect.runPromise(run(m.proposers ?? 1, m.millis ?? 5000, m.rate ?? 0)).then((r) => process.send!(r))
      }
    })
  })
})

const colon = self.lastIndexOf(":")
const layer = RaftNode.layer({
  config: RaftConfig.make(self, {}),
  voters,
  tickMillis: 50,
  snapshotThreshold: 8192,
  snapshotIntervalMillis: 1800_000,
  proposalTimeoutMillis: 10_000,
  seed: process.pid
}).pipe(Layer.provide(Layer.mergeAll(
  RaftStorage.layer({ dataDir }),
  TcpTransport.layer({ self, bind: { host: self.slice(0, colon), port: Number(self.slice(colon + 1)) }, peers: voters, secret: "bench-secret" }),
  Layer.effect(StateMachine, counterMachine)
)))

Effect.runFork(program.pipe(Effect.provide(layer)))
