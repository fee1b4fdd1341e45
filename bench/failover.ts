/**
 * Failover benchmark: a MariaDB master + 3 GTID replicas (test/harness), a writer committing continuously, and
 * orchestrator at the default InstancePollSeconds = 5.
 *
 * Default (raft): 3 real node processes (bin/orchestrator.js over dist/ — build first; SQLite backends, durable
 * raft logs), every node probing and analysing the topology, the leader recovering. Two clusters run side by
 * side, one with ExpectFailureAnalysisConcensus = true (quorum-agreed detection: the leader recovers only once a
 * majority of nodes see the master dead) and one with false; rounds alternate between them, so both see the same
 * machine load. `--single`: one node in this process (layerSingleNode), as before.
 *
 * Each round starts a fresh topology (a new cluster for orchestrator; the previous one is forgotten), has the
 * leader discover it (replicated `discover`: every node probes it), waits until every node sees it healthy,
 * runs the writer for 1.5 s, then kills the master with SIGKILL (`kill`) or SIGSTOPs it (`hang`: a hung server;
 * the replicas notice after slave_net_timeout = 4 s, the harness's setting). Measured from the signal by polling
 * the servers every 20 ms over their sockets (test/support/failover.ts): until one replica is writable and every
 * other replicates from it; transactions some replica had received that the new master lacks (an acknowledged
 * commit that was never shipped is not a loss: replication is asynchronous). From the leader's backend: kill →
 * recovery record (detection, with the quorum round when on) and the recovery's own duration.
 *
 *   npm run bench -- failover [--rounds 20] [--mode kill|hang|both] [--hang] [--consensus both|true|false] [--single] [--steps] [--config JSON]
 *
 * `--steps` prints each recovery's audit (raft mode) with times from the signal; `--config '{...}'` adds orchestrator
 * configuration to every node (e.g. '{"MySQLDiscoveryReadTimeoutSeconds":3}': a hung master's probe on its pooled
 * connection fails after this read timeout, which is what SIGSTOP detection waits for).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import { Repository } from "../core/backend/Repository.js"
import { Discovery } from "../core/discovery/Discovery.js"
import type { OrchestratorConfig } from "../core/config/OrchestratorConfig.js"
import { layerSingleNode } from "../core/node/Leadership.js"
import * as RecoveryService from "../service/Recovery.js"
import { Credentials, Shape, startTopology, type Topology } from "../test/harness/Topology.js"
import { config, key, recoveryLayer, setupSchema, startWriter, type Writer } from "../test/recovery/support.js"
import { type Cluster, startCluster } from "../test/support/cluster.js"
import { awaitAllSeeHealthy, awaitFailover, lostTransactions } from "../test/support/failover.js"

const argv = process.argv.slice(2).filter((a) => a !== "--")
const opt = (name: string, def: string): string => {
  const eq = argv.find((a) => a.startsWith(`--${name}=`))
  if (eq !== undefined) return eq.slice(name.length + 3)
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith("--") ? argv[i + 1]! : def
}
const flag = (name: string) => argv.includes(`--${name}`)

type Mode = "kill" | "hang"
const rounds = Number(opt("rounds", "20"))
const single = flag("single")
const modeArg = flag("hang") ? "hang" : opt("mode", "kill")
const modes: ReadonlyArray<Mode> = modeArg === "both" ? ["kill", "hang"] : [modeArg === "stop" || modeArg === "hang" ? "hang" : "kill"]
const consensusArg = opt("consensus", "both")
const consensusSettings: ReadonlyArray<boolean> = single ? [false] : consensusArg === "both" ? [true, false] : [consensusArg === "true"]
const pollSeconds = 5
/** Print each recovery's audit with times relative to the signal (raft mode). */
const showSteps = flag("steps")
/** Extra orchestrator configuration (JSON object) for every node, e.g. '{"MySQLDiscoveryReadTimeoutSeconds":3}'. */
const extraConfig = JSON.parse(opt("config", "{}")) as Record<string, unknown>
if (!Number.isInteger(rounds) || rounds < 1) {
  process.stderr.write(`--rounds: expected a positive integer, got ${String(rounds)}\n`)
  process.exit(2)
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const quantile = (xs: ReadonlyArray<number>, q: number): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN
}

interface RoundResult {
  /** Signal → healed; NaN when not healed within 60 s. */
  readonly healMs: number
  readonly lost: number
  /** Signal → recovery record written by the leader (detection, plus the quorum round when on); NaN if unknown. */
  readonly detectMs: number
  /** Recovery record → resolved (the recovery itself). */
  readonly recoverMs: number
  /** CountAdditionalAgreeingNodes of the recovery's analysis entry (raft). */
  readonly agreeing: number
}

const fail = (mode: Mode) => (mode === "kill" ? "kill -9" : "SIGSTOP")

const inject = async (topo: Topology, mode: Mode) => {
  if (mode === "kill") await topo.master.kill9()
  else await topo.master.sigstop()
}

/** Signal, then watch the servers; the writer is stopped concurrently (a hung master keeps it waiting). */
const failAndWatch = async (topo: Topology, mode: Mode, writer: Writer) => {
  const t0 = Date.now()
  await inject(topo, mode)
  const stopping = writer.stop()
  const out = await awaitFailover(topo.master, topo.replicas, t0, 60_000)
  await stopping
  const lost = out.master === undefined ? NaN : await lostTransactions(out.master, out.received)
  return { t0, healMs: out.master === undefined ? NaN : out.millis, lost }
}

// ---- 3 raft node processes ------------------------------------------------------------------------------------

/** An idempotent request to the leader; 503 (its lease lapsed for a moment on a loaded machine) is retried. */
const api = async (cluster: Cluster, p: string): Promise<number> => {
  const deadline = Date.now() + 30_000
  for (;;) {
    const leader = await cluster.waitForLeader(30_000)
    const status = await fetch(`${leader.url}/api/${p}`, { signal: AbortSignal.timeout(10_000) })
      .then(async (r) => {
        await r.arrayBuffer()
        return r.status
      })
      .catch(() => 0)
    if ((status !== 503 && status !== 0) || Date.now() > deadline) return status
    await sleep(100)
  }
}

const startRaft = (consensus: boolean) =>
  startCluster(3, {
    MySQLTopologyUser: Credentials.topology.user,
    MySQLTopologyPassword: Credentials.topology.password,
    InstancePollSeconds: pollSeconds,
    RecoverMasterClusterFilters: ["*"],
    // Every round is a new cluster (new master key): the block never spans rounds; kept short anyway.
    RecoveryPeriodBlockSeconds: 5,
    ExpectFailureAnalysisConcensus: consensus,
    ...extraConfig
  }, {
    // All nodes share 127.0.0.1: name each node's peers for the quorum round.
    perMember: (m, all) => ({ ConsensusPeerHttpUris: all.filter((o) => o !== m).map((o) => o.url) })
  })

const raftRound = async (cluster: Cluster, mode: Mode): Promise<RoundResult> => {
  const topo = await startTopology({ shape: Shape.masterWithReplicas(3) })
  try {
    await setupSchema(topo)
    const status = await api(cluster, `discover/127.0.0.1/${topo.master.port}`)
    if (status !== 200) throw new Error(`discover answered ${status}`)
    await awaitAllSeeHealthy(cluster.members.map((m) => m.url), topo.master, 3, 60_000)
    const writer = await startWriter(topo.master, topo.credentials)
    await sleep(1500)
    const { t0, healMs, lost } = await failAndWatch(topo, mode, writer)
    // The recovery as the leader's backend has it (written through raft by whoever led).
    let detectMs = NaN
    let recoverMs = NaN
    let agreeing = NaN
    const deadline = Date.now() + 15_000
    while (Date.now() < deadline) {
      const now = await cluster.waitForLeader(30_000)
      const [row] = cluster.query(
        now,
        `SELECT start_active_period AS s, end_recovery AS e, analysis_entry AS a FROM topology_recovery WHERE port = ${topo.master.port} AND start_active_period >= ${t0} ORDER BY recovery_id LIMIT 1`
      )
      if (row !== undefined && row["e"] !== null) {
        detectMs = Number(row["s"]) - t0
        recoverMs = Number(row["e"]) - Number(row["s"])
        agreeing = Number((JSON.parse(String(row["a"])) as Record<string, unknown>)["CountAdditionalAgreeingNodes"])
        if (showSteps) {
          const steps = cluster.query(
            now,
            `SELECT s.audit_at AS at, s.message AS m FROM topology_recovery_steps s JOIN topology_recovery r ON r.uid = s.recovery_uid WHERE r.port = ${topo.master.port} AND r.start_active_period >= ${t0} ORDER BY s.recovery_step_id`
          )
          console.log(steps.map((x) => `  +${Number(x["at"]) - t0} ms ${String(x["m"]).slice(0, 140)}`).join("\n"))
        }
        break
      }
      await sleep(200)
    }
    if (Number.isNaN(healMs)) {
      // Why not: the leader's blocked recoveries (anti-flapping, quorum with each peer's answer).
      const leader = await cluster.waitForLeader(30_000)
      const blocked = await fetch(`${leader.url}/api/blocked-recoveries`).then((r) => r.text()).catch((e: unknown) => String(e))
      console.log(`  not healed; blocked recoveries on ${leader.name}: ${blocked}`)
    }
    if (Number.isNaN(healMs) || showSteps) {
      // For diagnosis: every node's output so far.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-bench-failover-"))
      for (const m of cluster.members) fs.writeFileSync(path.join(dir, `${m.name}.log`), m.process?.output() ?? "")
      console.log(`  node logs: ${dir}`)
    }
    return { healMs, lost, detectMs, recoverMs, agreeing }
  } finally {
    // Forgotten on every node (replicated) before the servers go: nothing keeps probing or analysing them.
    await Promise.all(topo.instances.map((i) => api(cluster, `forget/127.0.0.1/${i.port}`).catch(() => 0)))
    if (mode === "hang") await topo.master.sigcont().catch(() => undefined)
    await topo.stop()
  }
}

// ---- one node in this process (--single) --------------------------------------------------------------------

const singleRound = async (mode: Mode): Promise<RoundResult> => {
  const topo = await startTopology({ shape: Shape.masterWithReplicas(3) })
  try {
    await setupSchema(topo)
    const c = config(topo, { InstancePollSeconds: pollSeconds, ...(extraConfig as Partial<OrchestratorConfig>) })
    const program = Effect.scoped(Effect.gen(function*() {
      const ctx = yield* Layer.build(RecoveryService.layer.pipe(
        Layer.provideMerge(layerSingleNode({ raftAddress: "", httpUri: "http://127.0.0.1:3000" })),
        Layer.provideMerge(recoveryLayer(c))
      ))
      const repo = Context.get(ctx, Repository)
      yield* Context.get(ctx, Discovery).discover(key(topo.master.key))
      for (;;) {
        if ((yield* repo.readInstances).length === 4) break
        yield* Effect.sleep("50 millis")
      }
      const writer = yield* Effect.promise(() => startWriter(topo.master, topo.credentials))
      yield* Effect.sleep("1500 millis")
      const { t0, healMs, lost } = yield* Effect.promise(() => failAndWatch(topo, mode, writer))
      // Resolved a moment after the servers healed (the last steps are backend-only): wait for it.
      let recovery = (yield* repo.readRecoveries(10, 0)).find((r) => r.key.port === topo.master.port && r.startActivePeriod >= t0)
      for (let i = 0; i < 100 && recovery !== undefined && recovery.endRecovery === null; i++) {
        yield* Effect.sleep("100 millis")
        recovery = (yield* repo.readRecoveries(10, 0)).find((r) => r.uid === recovery?.uid)
      }
      const detectMs = recovery === undefined ? NaN : recovery.startActivePeriod - t0
      const recoverMs = recovery === undefined || recovery.endRecovery === null ? NaN : recovery.endRecovery - recovery.startActivePeriod
      return { healMs, lost, detectMs, recoverMs, agreeing: 0 }
    })).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
    return await Effect.runPromise(program)
  } finally {
    if (mode === "hang") await topo.master.sigcont().catch(() => undefined)
    await topo.stop()
  }
}

// ---- main ---------------------------------------------------------------------------------------------------

const fmt = (x: number) => (Number.isNaN(x) ? "—" : String(Math.round(x)))

const main = async () => {
  const startedAt = new Date()
  const loadBefore = os.loadavg()
  const clusters = new Map<boolean, Cluster>()
  const results = new Map<string, Array<RoundResult>>()
  const label = (mode: Mode, consensus: boolean) => `${mode}/${consensus}`
  try {
    if (!single) {
      for (const c of consensusSettings) clusters.set(c, await startRaft(c))
      await Promise.all([...clusters.values()].map((c) => c.waitForLeader(30_000)))
    }
    for (let n = 1; n <= rounds; n++) {
      for (const mode of modes) {
        for (const consensus of consensusSettings) {
          const cluster = clusters.get(consensus)
          const r = cluster === undefined ? await singleRound(mode) : await raftRound(cluster, mode)
          results.set(label(mode, consensus), [...(results.get(label(mode, consensus)) ?? []), r])
          console.log(
            `round ${n} ${fail(mode)}${single ? "" : `, consensus ${consensus}`}: healed after ${fmt(r.healMs)} ms ` +
              `(recovery started ${fmt(r.detectMs)} ms after the signal, ran ${fmt(r.recoverMs)} ms` +
              `${single ? "" : `, ${fmt(r.agreeing)} other node(s) agreeing`}), lost ${fmt(r.lost)} (load ${os.loadavg()[0]!.toFixed(1)})`
          )
          await sleep(200)
        }
      }
    }
  } finally {
    await Promise.all([...clusters.values()].map((c) => c.stopAll()))
  }

  const rows = modes.flatMap((mode) =>
    consensusSettings.map((consensus) => {
      const rs = results.get(label(mode, consensus)) ?? []
      const heal = rs.map((r) => r.healMs)
      const detect = rs.map((r) => r.detectMs)
      return {
        failure: fail(mode),
        deployment: single ? "1 node" : "3 raft nodes",
        consensus: single ? null : consensus,
        rounds: rs.length,
        healed: heal.filter((x) => !Number.isNaN(x)).length,
        healP50: quantile(heal, 0.5),
        healP99: quantile(heal, 0.99),
        healMax: Math.max(...heal.filter((x) => !Number.isNaN(x))),
        detectP50: quantile(detect, 0.5),
        detectP99: quantile(detect, 0.99),
        recoverP50: quantile(rs.map((r) => r.recoverMs), 0.5),
        lostTrx: rs.reduce((a, r) => a + (Number.isNaN(r.lost) ? 0 : r.lost), 0)
      }
    })
  )
  console.log(
    [
      "| failure | deployment | quorum | rounds | healed | p50 ms | p99 ms | max ms | recovery started p50 / p99 ms | recovery ran p50 ms | lost trx |",
      "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
      ...rows.map((r) =>
        `| ${r.failure} | ${r.deployment} | ${r.consensus === null ? "—" : r.consensus ? "on" : "off"} | ${r.rounds} | ${r.healed} | ${fmt(r.healP50)} | ${fmt(r.healP99)} | ${fmt(r.healMax)} | ${fmt(r.detectP50)} / ${fmt(r.detectP99)} | ${fmt(r.recoverP50)} | ${r.lostTrx} |`
      )
    ].join("\n")
  )
  // What quorum-agreed detection adds: p50 with it on minus p50 with it off, per failure.
  const quorumAdds = single || consensusSettings.length < 2
    ? null
    : Object.fromEntries(modes.map((mode) => {
      const on = rows.find((r) => r.failure === fail(mode) && r.consensus === true)!
      const off = rows.find((r) => r.failure === fail(mode) && r.consensus === false)!
      return [mode, { healP50: on.healP50 - off.healP50, detectP50: on.detectP50 - off.detectP50 }]
    }))
  if (quorumAdds !== null) {
    for (const [mode, d] of Object.entries(quorumAdds)) {
      console.log(`quorum-agreed detection adds, ${fail(mode as Mode)}: ${fmt(d.healP50)} ms to the heal p50, ${fmt(d.detectP50)} ms to the detection p50`)
    }
  }
  console.log(JSON.stringify({
    bench: "failover",
    date: startedAt.toISOString(),
    node: process.version,
    cores: os.cpus().length,
    loadAverage: { before: loadBefore, after: os.loadavg() },
    instancePollSeconds: pollSeconds,
    topology: "MariaDB master + 3 GTID replicas, slave_net_timeout 4",
    results: rows,
    quorumAddsMillis: quorumAdds
  }))
}

main().then(
  // Harness safety nets and idle driver sockets would keep the process alive.
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
