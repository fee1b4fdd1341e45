/**
 * Failover benchmark: MariaDB master + 3 GTID replicas (test/harness), a writer committing continuously, one
 * orchestrator node in process (SQLite backend, discovery with the mysql2 prober at the default
 * InstancePollSeconds = 5, the leader-only recovery loop). Each round: kill -9 (or SIGSTOP) the master; measure
 * until a new master is writable and every surviving replica replicates from it (IO and SQL running), polling the
 * servers every 20 ms over their unix sockets; count transactions some replica had received from the dead master
 * that the new master lacks.
 *
 *   npx tsx bench/failover.ts [--rounds=20] [--mode=kill|stop|both]
 *
 * Not yet measured here: 3 raft nodes (the recovery service must first be wired into service/Node.ts; see the
 * recovery report). Quorum agreement adds one concurrent HTTP round trip per peer once peers also see the failure.
 */
import { Context, Effect, Layer, Logger, LogLevel } from "effect"
import { layerSingleNode } from "../core/node/Leadership.js"
import { Discovery } from "../core/discovery/Discovery.js"
import { Repository } from "../core/backend/Repository.js"
import * as RecoveryService from "../service/Recovery.js"
import { type MariaDbInstance, Shape, startTopology, type Topology } from "../test/harness/Topology.js"
import { config, key, recoveryLayer, seqOf, setupSchema, startWriter } from "../test/recovery/support.js"

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? def
const rounds = Number(arg("rounds", "20"))
const modes = arg("mode", "both") === "both" ? ["kill", "stop"] as const : [arg("mode", "kill") as "kill" | "stop"]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const status = async (i: MariaDbInstance) => {
  try {
    const [ro] = await i.query("SELECT @@read_only AS ro", [], { via: "socket" })
    const s = await i.slaveStatus()
    return { readOnly: String(ro?.["ro"]) === "1", master: s === undefined ? null : Number(s["Master_Port"]), running: s?.["Slave_IO_Running"] === "Yes" && s?.["Slave_SQL_Running"] === "Yes", io: String(s?.["Gtid_IO_Pos"] ?? "") }
  } catch {
    return undefined
  }
}

/** The new master's port once it is writable and every other replica replicates from it. */
const healed = async (topo: Topology): Promise<number | undefined> => {
  const states = await Promise.all(topo.replicas.map(status))
  const master = topo.replicas.find((_, n) => states[n] !== undefined && !states[n]!.readOnly && states[n]!.master === null)
  if (master === undefined) return undefined
  const ok = topo.replicas.every((r, n) => r === master || (states[n]?.master === master.port && states[n]?.running === true))
  return ok ? master.port : undefined
}

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN
}

const round = async (mode: "kill" | "stop") => {
  const topo = await startTopology({ shape: Shape.masterWithReplicas(3) })
  try {
    await setupSchema(topo)
    const c = config(topo, { InstancePollSeconds: 5 })
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
      const t0 = Date.now()
      if (mode === "kill") yield* Effect.promise(() => topo.master.kill9())
      else yield* Effect.promise(() => topo.master.sigstop())
      yield* Effect.promise(() => writer.stop())
      // What each replica received from the dead master, sampled until healing (IO positions only grow).
      const received = new Map<number, number>()
      let port: number | undefined
      while (port === undefined && Date.now() - t0 < 60_000) {
        const states = yield* Effect.promise(() => Promise.all(topo.replicas.map(status)))
        topo.replicas.forEach((r, n) => {
          const s = states[n]
          if (s !== undefined && s.master === topo.master.port) received.set(r.port, Math.max(received.get(r.port) ?? 0, seqOf(s.io)))
        })
        port = yield* Effect.promise(() => healed(topo))
        if (port === undefined) yield* Effect.sleep("20 millis")
      }
      const ms = Date.now() - t0
      if (port === undefined) return { ms: NaN, lost: NaN }
      const [row] = yield* Effect.promise(() => topo.instance(port!).query("SELECT @@gtid_slave_pos AS p", [], { via: "socket" }))
      const have = seqOf(String(row?.["p"] ?? ""))
      const lost = Math.max(0, ...[...received.values()].map((v) => v - have))
      return { ms, lost }
    })).pipe(Logger.withMinimumLogLevel(LogLevel.Warning))
    return await Effect.runPromise(program)
  } finally {
    if (mode === "stop") await topo.master.sigcont().catch(() => undefined)
    await topo.stop()
  }
}

const main = async () => {
  const out: Array<string> = []
  for (const mode of modes) {
    const times: Array<number> = []
    let lost = 0
    for (let n = 0; n < rounds; n++) {
      const r = await round(mode)
      times.push(r.ms)
      lost += Number.isNaN(r.lost) ? 0 : r.lost
      console.log(`${mode} round ${n + 1}: healed after ${r.ms} ms, lost ${r.lost}`)
      await sleep(200)
    }
    const ok = times.filter((t) => !Number.isNaN(t))
    out.push(`| ${mode === "kill" ? "kill -9" : "SIGSTOP"} | ${rounds} | ${ok.length} | ${quantile(ok, 0.5)} | ${quantile(ok, 0.99)} | ${Math.max(...ok)} | ${lost} |`)
  }
  console.log(["| failure | rounds | healed | p50 ms | p99 ms | max ms | lost trx |", "| --- | --- | --- | --- | --- | --- | --- |", ...out].join("\n"))
}

main().then(
  // Harness safety nets and idle driver sockets would keep the process alive.
  () => process.exit(0),
  (e) => {
    console.error(e)
    process.exit(1)
  }
)
