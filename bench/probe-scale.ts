/**
 * Probe scale benchmark: N FAKE MySQL/MariaDB servers (test/fakes; clusters of 1 master + 4 replicas,
 * mixed MariaDB 10.11 / MySQL 8.0 / 8.4) in helper processes (ports from 10000, at most 5,000 per helper
 * to stay under the 20,000 file-descriptor limit), and the discovery service of one node polling them
 * with the real mysql2 prober and a SQLite backend.
 *
 *   npx tsx bench/probe-scale.ts -- --count 1000 [--poll 5] [--seconds 30] [--concurrency 300] [--master-poll-ms 1000]
 *
 * `--memory-db` keeps the SQLite backend in memory (better-sqlite3 writes synchronously on the event loop:
 * on a disk shared with other jobs a slow commit stalls every probe in flight).
 *
 * `--master-poll-ms` sets MasterPollMillis (default 1000: masters with replicas are probed every second, so
 * the expected rate is 0.36 × N per second with clusters of 5; 0 = every InstancePollSeconds, N/5 per second).
 *
 * Reports probes/s, p99 staleness of last_checked (in memory, sampled every second, and from the backend
 * at the end), CPU and RSS of the polling process, CPU µs per probe of the polling process and of the fake
 * fleet (/proc), connections opened and event-loop delay while measured, round trips per probe; a table
 * and one JSON line.
 */
import { Context, Effect, Either, Layer } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { layerSqlite } from "../adapters/backend/Backend.js"
import { connectionsOpened } from "../adapters/mysql/Connections.js"
import * as MysqlProber from "../adapters/mysql/MysqlProber.js"
import { Repository } from "../core/backend/Repository.js"
import * as AppConfig from "../core/config/AppConfig.js"
import { defaults } from "../core/config/OrchestratorConfig.js"
import { Discovery } from "../core/discovery/Discovery.js"
import { type ProbeError, Prober } from "../core/discovery/Prober.js"
import { quantile } from "../core/discovery/Schedule.js"
import * as CommandLog from "../core/ops/CommandLog.js"
import * as DiscoveryService from "../service/Discovery.js"
import { applyGcTuning } from "../service/GcTuning.js"

const args = process.argv.slice(2).filter((a) => a !== "--")
const flag = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 && args[i + 1] !== undefined ? Number(args[i + 1]) : def
}

const BASE_PORT = 10000
const PER_HELPER = 5000
const CLUSTER = 5

// ---- helper mode: serve a slice of the fleet ------------------------------------------------------------------
if (args.includes("--fleet")) {
  const from = flag("from", 0)
  const count = flag("count", 0)
  const { startFleet, linkReplica } = await import("../test/fakes/FakeMysqlServer.js")
  const flavors = ["mariadb-10.11", "mariadb-10.11", "mysql-8.0", "mysql-8.4"] as const
  const fleet = await startFleet({
    count,
    basePort: BASE_PORT + from,
    // one flavour per cluster
    flavor: (i) => flavors[Math.floor((from + i) / CLUSTER) % flavors.length]!
  })
  fleet.servers.forEach((s, i) => {
    if ((from + i) % CLUSTER !== 0) {
      const master = fleet.servers[i - ((from + i) % CLUSTER)]
      if (master !== undefined) linkReplica(master, s)
    }
  })
  process.send?.({ ready: true })
  process.on("disconnect", () => void fleet.close().then(() => process.exit(0)))
  process.on("SIGTERM", () => void fleet.close().then(() => process.exit(0)))
} else {
  // The polling process runs with the node's process settings (service/GcTuning.ts), as the CLI applies them.
  applyGcTuning()
  await main()
}

async function main() {
  const count = flag("count", 1000)
  const poll = flag("poll", 5)
  const seconds = flag("seconds", 30)
  const concurrency = flag("concurrency", 300)
  const warmup = flag("warmup", 15)
  // Masters with replicas are probed every MasterPollMillis (default 1 s), the rest every InstancePollSeconds.
  const masterPollMs = flag("master-poll-ms", defaults.MasterPollMillis)
  const masters = Math.floor(count / CLUSTER) + (count % CLUSTER > 1 ? 1 : 0)
  const masterEveryMs = masterPollMs > 0 ? Math.min(poll * 1000, masterPollMs) : poll * 1000
  const expectedRate = masters * (1000 / masterEveryMs) + (count - masters) / poll
  const helpers: Array<ChildProcess> = []
  const stopHelpers = () => {
    for (const h of helpers) if (h.exitCode === null) h.kill("SIGTERM")
  }
  process.on("exit", stopHelpers)
  /** utime + stime of the fleet helpers from /proc (ms; 0 where /proc is absent). */
  const helperCpuMs = () => {
    let ticks = 0
    for (const h of helpers) {
      try {
        const stat = fs.readFileSync(`/proc/${h.pid}/stat`, "utf8")
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        ticks += Number(fields[11]) + Number(fields[12])
      } catch {
        // helper gone or no /proc
      }
    }
    return ticks * 10
  }
  const t0 = Date.now()
  for (let from = 0; from < count; from += PER_HELPER) {
    const n = Math.min(PER_HELPER, count - from)
    const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, "--fleet", "--from", String(from), "--count", String(n)], {
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    helpers.push(child)
    await new Promise<void>((resolve, reject) => {
      child.once("message", () => resolve())
      child.once("exit", (code) => reject(new Error(`fleet helper exited with ${code}`)))
    })
  }
  console.error(`fleet of ${count} fake servers up in ${Date.now() - t0} ms (${helpers.length} helper process(es))`)

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-probe-scale-"))
  const config = {
    ...defaults,
    BackendDB: "sqlite",
    // --memory-db: SQLite in memory, to separate disk contention from probing costs.
    SQLite3DataFile: args.includes("--memory-db") ? ":memory:" : path.join(dir, "backend.db"),
    MySQLTopologyUser: "orc",
    MySQLTopologyPassword: "secret",
    InstancePollSeconds: poll,
    DiscoveryMaxConcurrency: concurrency,
    MasterPollMillis: masterPollMs,
    DiscoverySeeds: Array.from({ length: count }, (_, i) => `127.0.0.1:${BASE_PORT + i}`)
  }
  const base = Layer.mergeAll(layerSqlite({ filename: config.SQLite3DataFile }), AppConfig.layer(config))
  const failures = new Map<string, { n: number; sample: string }>()
  const prober = Layer.scoped(
    Prober,
    Effect.map(MysqlProber.make(MysqlProber.optionsFromConfig(config)), (p) => {
      const count = (e: ProbeError) => {
        const f = failures.get(e.kind) ?? { n: 0, sample: e.message }
        failures.set(e.kind, { n: f.n + 1, sample: f.sample })
      }
      const fast = p.probeCallback
      return Prober.of({
        ...p,
        probe: (req) => Effect.tapError(p.probe(req), (e) => Effect.sync(() => count(e))),
        ...(fast === undefined ? {} : {
          probeCallback: (req, done) =>
            fast(req, (r) => {
              if (Either.isLeft(r)) count(r.left)
              done(r)
            })
        })
      })
    })
  )
  const live = DiscoveryService.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(CommandLog.layerLocal, prober).pipe(Layer.provideMerge(base)))
  )

  const result = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const ctx = yield* Layer.build(live)
    const discovery = Context.get(ctx, Discovery)
    const repo = Context.get(ctx, Repository)
    const probeTrips = Context.get(ctx, Prober)
    const started = Date.now()
    // Warm-up: the first round (cold probes) and the spreading of slots.
    for (;;) {
      const s = yield* discovery.status
      if (s.probesOk >= count && Date.now() - started >= warmup * 1000) break
      if (Date.now() - started > 300_000) break
      yield* Effect.sleep("500 millis")
    }
    const firstRoundMs = Date.now() - started
    const s0 = yield* discovery.status
    const trips0 = yield* probeTrips.roundTrips
    const loopDelay = monitorEventLoopDelay({ resolution: 10 })
    loopDelay.enable()
    const opened0 = connectionsOpened()
    const cpu0 = process.cpuUsage()
    const helperCpu0 = helperCpuMs()
    const wall0 = Date.now()
    const p99s: Array<number> = []
    const maxes: Array<number> = []
    let rssMax = 0
    let heapMax = 0
    for (let i = 0; i < seconds; i++) {
      yield* Effect.sleep("1 second")
      const s = yield* discovery.status
      p99s.push(s.stalenessMs.p99)
      maxes.push(s.stalenessMs.max)
      const mem = process.memoryUsage()
      rssMax = Math.max(rssMax, mem.rss)
      heapMax = Math.max(heapMax, mem.heapUsed)
    }
    const s1 = yield* discovery.status
    const trips1 = yield* probeTrips.roundTrips
    const cpu = process.cpuUsage(cpu0)
    const openedDuring = connectionsOpened() - opened0
    loopDelay.disable()
    const helperCpu = helperCpuMs() - helperCpu0
    const wall = Date.now() - wall0
    const now = Date.now()
    const rows = yield* repo.readInstances
    const dbAges = rows.map((r) => now - (r.lastChecked ?? 0))
    const probes = s1.probesOk - s0.probesOk
    return {
      count,
      pollSeconds: poll,
      concurrency,
      measuredSeconds: Math.round(wall / 1000),
      firstRoundMs,
      known: s1.known,
      stored: rows.length,
      failedProbes: s1.probesFailed - s0.probesFailed,
      probesPerSecond: Math.round((probes / wall) * 1000),
      expectedProbesPerSecond: Math.round(expectedRate),
      connectionsOpened: openedDuring,
      roundTripsPerProbe: Number(((trips1 - trips0) / Math.max(1, probes)).toFixed(2)),
      stalenessP99Ms: Math.round(quantile(p99s, 0.99)),
      stalenessMaxMs: Math.max(0, ...maxes),
      backendStalenessP99Ms: Math.round(quantile(dbAges, 0.99)),
      cpuPercent: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100),
      cpuUsPerProbe: Math.round((cpu.user + cpu.system) / Math.max(1, probes)),
      fleetCpuPercent: Math.round((helperCpu / wall) * 100),
      fleetCpuUsPerProbe: Math.round((helperCpu * 1000) / Math.max(1, probes)),
      eventLoopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e6),
      eventLoopDelayMaxMs: Math.round(loopDelay.max / 1e6),
      rssMiB: Math.round(rssMax / 1024 / 1024),
      heapUsedMiB: Math.round(heapMax / 1024 / 1024),
      loadAverage1m: Number(os.loadavg()[0]!.toFixed(1)),
      backend: config.SQLite3DataFile === ":memory:" ? "sqlite-memory" : "sqlite-file"
    }
  })))
  stopHelpers()
  for (const [kind, f] of failures) console.error(`probe failures: ${kind} × ${f.n}, e.g. ${f.sample}`)
  fs.rmSync(dir, { recursive: true, force: true })
  const table: Array<[string, string]> = [
    ["instances (known / stored)", `${result.known} / ${result.stored}`],
    ["InstancePollSeconds / concurrency", `${result.pollSeconds} / ${result.concurrency}`],
    ["first full round (cold probes) + warm-up", `${result.firstRoundMs} ms`],
    ["probes/s (expected: masters every MasterPollMillis, others every poll)", `${result.probesPerSecond} (${result.expectedProbesPerSecond})`],
    ["failed probes while measured", String(result.failedProbes)],
    ["round trips per probe", String(result.roundTripsPerProbe)],
    ["connections opened while measured", String(result.connectionsOpened)],
    ["staleness of last_checked p99 (memory) / max", `${result.stalenessP99Ms} ms / ${result.stalenessMaxMs} ms`],
    ["staleness of last_checked p99 (backend, at end)", `${result.backendStalenessP99Ms} ms`],
    ["CPU of the polling process", `${result.cpuPercent} % of one core, ${result.cpuUsPerProbe} µs per probe`],
    ["CPU of the fake fleet (all helpers)", `${result.fleetCpuPercent} % of one core, ${result.fleetCpuUsPerProbe} µs per probe`],
    ["event-loop delay p99 / max (polling process)", `${result.eventLoopDelayP99Ms} ms / ${result.eventLoopDelayMaxMs} ms`],
    ["RSS / JS heap used of the polling process (max)", `${result.rssMiB} MiB / ${result.heapUsedMiB} MiB`],
    ["load average (1 min) at end", String(result.loadAverage1m)]
  ]
  const w = Math.max(...table.map(([k]) => k.length))
  for (const [k, v] of table) console.log(`${k.padEnd(w)}  ${v}`)
  console.log(JSON.stringify({ bench: "probe-scale", ...result }))
  process.exit(0)
}
