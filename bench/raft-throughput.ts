/**
 * Committed raft proposals per second and their latency, 3 real processes on loopback with durable raft logs.
 *
 *   npm run bench -- raft-throughput [--mode raft|http|both] [--seconds 10] [--rounds 1] [--member-args "<node flags>"]
 *
 * --mode raft (issue 3's benchmark): three bare raft members (bench/support/raftNode.ts: the node's
 *   RaftStorage and authenticated TCP transport, product defaults, a counter as state machine). The
 *   proposers run inside the leader process; latency is propose → committed and applied on the leader.
 *   Rows: 1 proposer and 64 proposers in a closed loop (each proposes again when answered), and 64
 *   proposers offering 2,000/s together (latency from each proposal's scheduled time).
 * --mode http (the whole product path): three `orchestrator` processes (SQLite backends); each proposer
 *   sends begin-downtime to the leader over HTTP (keep-alive), which answers after commit and apply to
 *   its backend. Latency is the HTTP round trip. The load generator is this process.
 *
 * Each row is the median of --rounds rounds (by commits/s); the JSON line has every round. Raft rows also
 * give each member's CPU use during the row (% of one core, all threads; leader first) and the CPU of all
 * three per commit: what separates "the nodes are busy" from "the nodes wait for the scheduler". And the GC:
 * the leader's GC pause time per second, and the share of slow proposals (over 20 ms, the target) that
 * overlap a GC pause of some member — how much of the tail is garbage collection. On Linux, also each member's
 * page faults and main-thread preemptions (involuntary context switches) per commit: on a small VM a fault
 * and a wake-up are what a round costs most (docs/benchmarks.md, "What a raft round costs on this VM").
 *
 * On Linux it also reports the kernel's DAMON memory monitor, which this kind of VM runs: its state and sampling
 * interval in the JSON line, and per row the CPU its kdamond threads used (ms per second). Under load each of its
 * samples (every 500 ms here) stalls all three members at once for 10–25 ms; the slow proposals then come in
 * bursts at that period. So each raft row also gives the bursts of slow proposals (over 20 ms, starts less than
 * 5 ms apart) and the median time between the starts of consecutive bursts (docs/benchmarks.md, "The VM's
 * memory monitor").
 *
 * --member-args "<node flags>" passes Node/V8 flags to the three raft members (e.g. "--trace-gc" or
 * "--max-semi-space-size=64"), for A/B runs of runtime settings without editing the bench.
 */
import { type ChildProcess, fork } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as path from "node:path"
import { startCluster } from "../test/support/cluster.js"
import { freePort } from "../test/support/ports.js"

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1]! : fallback
}
const seconds = Number(arg("seconds", "10"))
const rounds = Number(arg("rounds", "1"))
const mode = arg("mode", "both")
const memberArgs = arg("member-args", "").split(" ").filter((a) => a !== "")
const pct = (xs: ReadonlyArray<number>, p: number) =>
  xs.length === 0 ? NaN : [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!

interface Row {
  readonly mode: string
  readonly proposers: number
  /** Offered proposals/s, 0 for a closed loop. */
  readonly offered: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly max: number
  readonly errors: number
  readonly leaderLoopDelayP99?: number
  /** Raft mode: % of one core per member (leader first), and CPU µs of all members per commit. */
  readonly cpuPercent?: ReadonlyArray<number>
  readonly cpuMicrosPerCommit?: number
  /** Raft mode: the leader's GC pause time, ms per second of the row. */
  readonly leaderGcMillisPerSecond?: number
  /** Raft mode: proposals slower than 20 ms, and the % of them whose interval overlaps a member's GC pause. */
  readonly slow?: number
  readonly slowDuringGcPercent?: number
  /** Raft mode on Linux: page faults and main-thread preemptions per commit, per member (leader first). */
  readonly faultsPerCommit?: ReadonlyArray<number>
  readonly preemptedPerCommit?: ReadonlyArray<number>
  /** Raft mode: bursts of slow proposals, and the median ms between the starts of consecutive bursts. */
  readonly slowBursts?: number
  readonly burstSpacingMillis?: number
  /** Raft mode on a kernel running DAMON: CPU ms per second used by its kdamond threads during the row. */
  readonly kdamondMillisPerSecond?: number
}

interface SchedulerCounters {
  readonly faults: number
  readonly preempted: number
}

/**
 * The fields of /proc/<pid>/stat after "(comm) " (the command name may contain spaces): state first, then ppid,
 * …; minflt is the 8th, utime and stime the 12th and 13th. Throws where /proc is not there or the process is gone.
 */
const procStatFields = (pid: number): ReadonlyArray<string> => {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  return stat.slice(stat.lastIndexOf(") ") + 2).split(" ")
}

/**
 * A member's minor page faults (all threads) and its main thread's involuntary context switches, from /proc;
 * undefined where /proc is not there (not Linux) or the process is gone.
 */
const schedulerCounters = (pid: number | undefined): SchedulerCounters | undefined => {
  if (pid === undefined) return undefined
  try {
    const faults = Number(procStatFields(pid)[7])
    const status = fs.readFileSync(`/proc/${pid}/task/${pid}/status`, "utf8")
    const preempted = Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(status)?.[1])
    return Number.isFinite(faults) && Number.isFinite(preempted) ? { faults, preempted } : undefined
  } catch {
    return undefined
  }
}

/** Of the proposals slower than `limit` ms, how many overlap a GC pause of any member. */
const slowDuringGc = (
  latencies: ReadonlyArray<number>,
  starts: ReadonlyArray<number>,
  pauses: ReadonlyArray<readonly [number, number]>,
  limit: number
) => {
  let slow = 0
  let overlapping = 0
  for (let i = 0; i < latencies.length; i++) {
    if (latencies[i]! <= limit) continue
    slow++
    const from = starts[i]!
    const to = from + latencies[i]!
    if (pauses.some(([at, ms]) => at < to && at + ms > from)) overlapping++
  }
  return { slow, percent: slow === 0 ? 0 : Math.round((overlapping / slow) * 100) }
}

/**
 * The proposals slower than `limit` ms grouped into bursts (each start less than 5 ms after the previous slow
 * one's), and the median time between the starts of consecutive bursts: a stall that hits every member at a
 * fixed period (the kernel's DAMON sampling on this VM) shows as bursts at that spacing.
 */
const slowBursts = (latencies: ReadonlyArray<number>, starts: ReadonlyArray<number>, limit: number) => {
  const slowStarts = starts.filter((_, i) => latencies[i]! > limit).sort((a, b) => a - b)
  const burstStarts: Array<number> = []
  let previous = -Infinity
  for (const at of slowStarts) {
    if (at - previous >= 5) burstStarts.push(at)
    previous = at
  }
  const spacing = burstStarts.slice(1).map((at, k) => at - burstStarts[k]!)
  return { bursts: burstStarts.length, spacing: spacing.length === 0 ? undefined : Math.round(pct(spacing, 50)) }
}

const damonDir = "/sys/kernel/mm/damon/admin/kdamonds"

/** The kernel's DAMON monitors (state, sampling interval in µs, kdamond pid of each), or undefined without DAMON. */
const damonMonitors = () => {
  try {
    return fs.readdirSync(damonDir).filter((d) => /^\d+$/.test(d)).map((d) => {
      const read = (f: string) => {
        try {
          return fs.readFileSync(path.join(damonDir, d, f), "utf8").trim()
        } catch {
          return ""
        }
      }
      const pid = Number(read("pid"))
      return { state: read("state"), sampleMicros: Number(read("contexts/0/monitoring_attrs/intervals/sample_us")), pid }
    })
  } catch {
    return undefined
  }
}

/**
 * CPU ms (user + system) used so far by the running kdamond threads, with their pids (a monitor turned off and on
 * again is a new thread: the two readings of a row are compared only when the pids match); undefined where there
 * is none to read.
 */
const kdamondCpu = (): { readonly pids: string; readonly millis: number } | undefined => {
  const pids = (damonMonitors() ?? []).filter((m) => m.state === "on" && m.pid > 0).map((m) => m.pid)
  if (pids.length === 0) return undefined
  let ticks = 0
  for (const pid of pids) {
    try {
      const fields = procStatFields(pid)
      // utime and stime, in clock ticks (USER_HZ, 100 on Linux).
      ticks += Number(fields[11]) + Number(fields[12])
    } catch {
      return undefined
    }
  }
  return { pids: pids.join(","), millis: ticks * 10 }
}

const summarize = (m: string, proposers: number, offered: number, latencies: ReadonlyArray<number>, secs: number, errors: number): Row => ({
  mode: m,
  proposers,
  offered,
  perSecond: latencies.length / secs,
  p50: pct(latencies, 50),
  p99: pct(latencies, 99),
  max: latencies.reduce((m, x) => Math.max(m, x), 0),
  errors
})

const plans: ReadonlyArray<readonly [number, number]> = [[1, 0], [64, 0], [64, 2000]]

const raftMode = async (): Promise<Array<Row>> => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "raft-throughput-"))
  const ids = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`]
  const members: Array<ChildProcess> = ids.map((id, i) =>
    fork(path.join(import.meta.dirname, "support/raftNode.ts"), [id, path.join(root, `node${i + 1}`), ids.join(",")], {
      execArgv: ["--import", "tsx", ...memberArgs],
      // With --member-args, a member's stdout (its log lines, and e.g. --trace-gc output) goes to this process's
      // stderr, which keeps stdout to the table and the JSON line; without, it is dropped as before.
      stdio: ["ignore", memberArgs.length > 0 ? 2 : "ignore", "inherit", "ipc"]
    })
  )
  const ask = <T>(member: ChildProcess, message: object) =>
    new Promise<T>((resolve) => {
      member.once("message", (m) => resolve(m as T))
      member.send(message)
    })
  const rows: Array<Row> = []
  try {
    let leader: ChildProcess | undefined
    const until = Date.now() + 30_000
    while (leader === undefined) {
      if (Date.now() > until) throw new Error("no raft leader within 30 s")
      await new Promise((r) => setTimeout(r, 200))
      for (const m of members) if ((await ask<{ isLeader: boolean }>(m, { cmd: "status" })).isLeader) leader = m
    }
    await ask(leader, { cmd: "run", proposers: 64, millis: 2000, rate: 0 }) // warm-up (JIT)
    const ordered = [leader, ...members.filter((m) => m !== leader)]
    const cpu = () => Promise.all(ordered.map((m) => ask<{ cpuMillis: number }>(m, { cmd: "cpu" })))
    const gcs = () => Promise.all(ordered.map((m) => ask<{ pauses: Array<[number, number]> }>(m, { cmd: "gc" })))
    for (const [proposers, rate] of plans) {
      await gcs()
      const before = await cpu()
      const countersBefore = ordered.map((m) => schedulerCounters(m.pid))
      const kdamondBefore = kdamondCpu()
      const startedAt = performance.now()
      const r = await ask<{ latencies: Array<number>; starts: Array<number>; errors: number; seconds: number; loopDelayMs: { p99: number } }>(
        leader,
        { cmd: "run", proposers, millis: seconds * 1000, rate }
      )
      const after = await cpu()
      const countersAfter = ordered.map((m) => schedulerCounters(m.pid))
      const kdamondAfter = kdamondCpu()
      const wall = performance.now() - startedAt
      const pauses = await gcs()
      const gc = slowDuringGc(r.latencies, r.starts, pauses.flatMap((p) => p.pauses), 20)
      const bursts = slowBursts(r.latencies, r.starts, 20)
      const used = after.map((a, i) => a.cpuMillis - before[i]!.cpuMillis)
      const commits = Math.max(1, r.latencies.length)
      // Per member, what the counters moved during the row; only rows where every member could be read report them.
      const deltas = countersAfter.flatMap((a, i) => {
        const b = countersBefore[i]
        return a === undefined || b === undefined ? [] : [{ faults: a.faults - b.faults, preempted: a.preempted - b.preempted }]
      })
      const perCommit = (pick: (d: SchedulerCounters) => number) =>
        deltas.length === ordered.length ? deltas.map((d) => Math.round((pick(d) / commits) * 100) / 100) : undefined
      const faultsPerCommit = perCommit((d) => d.faults)
      const preemptedPerCommit = perCommit((d) => d.preempted)
      rows.push({
        ...summarize("raft", proposers, rate, r.latencies, r.seconds, r.errors),
        leaderLoopDelayP99: r.loopDelayMs.p99,
        cpuPercent: used.map((ms) => Math.round((ms / wall) * 100)),
        cpuMicrosPerCommit: Math.round((used.reduce((a, b) => a + b, 0) * 1000) / commits),
        leaderGcMillisPerSecond: Math.round(pauses[0]!.pauses.reduce((a, [, ms]) => a + ms, 0) / (wall / 1000)),
        slow: gc.slow,
        slowDuringGcPercent: gc.percent,
        ...(faultsPerCommit === undefined ? {} : { faultsPerCommit }),
        ...(preemptedPerCommit === undefined ? {} : { preemptedPerCommit }),
        slowBursts: bursts.bursts,
        ...(bursts.spacing === undefined ? {} : { burstSpacingMillis: bursts.spacing }),
        ...(kdamondBefore === undefined || kdamondAfter === undefined || kdamondBefore.pids !== kdamondAfter.pids
          ? {}
          : { kdamondMillisPerSecond: Math.round((kdamondAfter.millis - kdamondBefore.millis) / (wall / 1000)) })
      })
    }
  } finally {
    for (const m of members) m.kill("SIGKILL")
    fs.rmSync(root, { recursive: true, force: true })
  }
  return rows
}

const httpMode = async (): Promise<Array<Row>> => {
  const cluster = await startCluster(3)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const rows: Array<Row> = []
  let n = 0
  const get = (url: URL) =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(url, { agent }, (res) => {
        res.resume()
        res.on("end", () => resolve(res.statusCode ?? 0))
      })
      req.on("error", reject)
    })
  try {
    const leader = await cluster.waitForLeader(30_000)
    const run = async (proposers: number, millis: number) => {
      const latencies: Array<number> = []
      let errors = 0
      const start = performance.now()
      const deadline = start + millis
      await Promise.all(Array.from({ length: proposers }, async (_, w) => {
        while (performance.now() < deadline) {
          const t0 = performance.now()
          const status = await get(new URL(`${leader.url}/api/begin-downtime/h${w}-${n++}/3306/bench/throughput`))
          // A non-200 (e.g. 503 while leadership moves) is counted, not retried: it is not a commit.
          if (status === 200) latencies.push(performance.now() - t0)
          else errors++
        }
      }))
      return { latencies, errors, seconds: (performance.now() - start) / 1000 }
    }
    await run(64, 2000) // warm-up (JIT)
    for (const [proposers, rate] of plans) {
      if (rate > 0) continue // the HTTP load generator is closed-loop only
      const r = await run(proposers, seconds * 1000)
      rows.push(summarize("http", proposers, 0, r.latencies, r.seconds, r.errors))
    }
  } finally {
    agent.destroy()
    await cluster.stopAll()
  }
  return rows
}

const main = async () => {
  const all: Array<Array<Row>> = []
  for (let round = 0; round < rounds; round++) {
    const rows: Array<Row> = []
    if (mode === "raft" || mode === "both") rows.push(...(await raftMode()))
    if (mode === "http" || mode === "both") rows.push(...(await httpMode()))
    all.push(rows)
  }
  // Per row: the round with the median commits/s.
  const median = all[0]!.map((_, k) => {
    const byRate = all.map((rows) => rows[k]!).sort((a, b) => a.perSecond - b.perSecond)
    return byRate[Math.floor(byRate.length / 2)]!
  })
  console.log(
    "| mode | proposers | offered/s | commits/s | p50 ms | p99 ms | max ms | errors | leader loop delay p99 ms | CPU % L/F/F | CPU µs/commit | leader GC ms/s | > 20 ms (during a GC) | page faults/commit L/F/F | preempted/commit L/F/F | slow bursts (median spacing ms) | kdamond ms/s |"
  )
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
  for (const r of median) {
    console.log(
      `| ${r.mode} | ${r.proposers} | ${r.offered === 0 ? "closed loop" : r.offered} | ${r.perSecond.toFixed(0)} | ${r.p50.toFixed(2)} | ` +
        `${r.p99.toFixed(2)} | ${r.max.toFixed(1)} | ${r.errors} | ${r.leaderLoopDelayP99?.toFixed(1) ?? "-"} | ` +
        `${r.cpuPercent?.join("/") ?? "-"} | ${r.cpuMicrosPerCommit ?? "-"} | ${r.leaderGcMillisPerSecond ?? "-"} | ` +
        `${r.slow === undefined ? "-" : `${r.slow} (${r.slowDuringGcPercent}%)`} | ` +
        `${r.faultsPerCommit?.join("/") ?? "-"} | ${r.preemptedPerCommit?.join("/") ?? "-"} | ` +
        `${r.slowBursts === undefined ? "-" : `${r.slowBursts}${r.burstSpacingMillis === undefined ? "" : ` (${r.burstSpacingMillis})`}`} | ` +
        `${r.kdamondMillisPerSecond ?? "-"} |`
    )
  }
  console.log(JSON.stringify({
    bench: "raft-throughput",
    date: new Date().toISOString(),
    node: process.version,
    cores: os.cpus().length,
    seconds,
    ...(memberArgs.length === 0 ? {} : { memberArgs }),
    damon: damonMonitors()?.map(({ sampleMicros, state }) => ({ state, sampleMicros })) ?? null,
    rounds: all,
    median
  }))
}
main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e)
  process.exit(1)
})
