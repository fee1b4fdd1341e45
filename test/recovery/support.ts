/**
 * Live recovery tests: a node's recovery machinery (SQLite backend in memory, local command log, discovery
 * with the mysql2 prober, TopologySql, bash hooks) over a real MariaDB topology (test/harness), plus a
 * writer committing continuously to the master.
 */
import { Context, Effect, Either, Layer } from "effect"
import * as mysql from "mysql2/promise"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import * as MysqlProber from "../../adapters/mysql/MysqlProber.js"
import * as MysqlTopologySql from "../../adapters/mysql/MysqlTopologySql.js"
import * as ShellHookRunner from "../../adapters/recovery/ShellHookRunner.js"
import { analyze } from "../../core/analysis/Analyze.js"
import type { ReplicationAnalysis } from "../../core/analysis/ReplicationAnalysis.js"
import * as Snapshot from "../../core/analysis/Snapshot.js"
import { Repository } from "../../core/backend/Repository.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import { defaults, type OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { Discovery } from "../../core/discovery/Discovery.js"
import { Prober } from "../../core/discovery/Prober.js"
import { TopologySql } from "../../core/discovery/TopologySql.js"
import { NodeIdentity } from "../../core/node/NodeIdentity.js"
import * as CommandLog from "../../core/ops/CommandLog.js"
import * as Key from "../../core/topology/InstanceKey.js"
import * as DiscoveryService from "../../service/Discovery.js"
import type { MariaDbInstance, Topology } from "../harness/Topology.js"

export const config = (topo: Topology, overrides: Partial<OrchestratorConfig> = {}): OrchestratorConfig => ({
  ...defaults,
  BackendDB: "sqlite",
  SQLite3DataFile: ":memory:",
  ...topo.orchestratorConfig,
  MySQLReplicaUser: topo.credentials.replication.user,
  MySQLReplicaPassword: topo.credentials.replication.password,
  InstancePollSeconds: 1,
  RecoverMasterClusterFilters: ["*"],
  ...overrides
})

const identity = Layer.succeed(NodeIdentity, {
  hostname: "test-node",
  token: "test-token",
  command: "test",
  appVersion: "test",
  nodeId: "test-node:3000",
  httpUri: "http://127.0.0.1:3000",
  startedAt: 0
})

/** Everything the executor needs, over a real topology (`topologySql`: another TopologySql, e.g. a recording one). */
export const recoveryLayer = (
  c: OrchestratorConfig,
  topologySql: Layer.Layer<TopologySql, never, AppConfig.AppConfig> = MysqlTopologySql.layer
) => {
  const base = Layer.mergeAll(layerSqlite({ filename: ":memory:" }), AppConfig.layer(c), identity)
  const prober = Layer.scoped(Prober, MysqlProber.make(MysqlProber.optionsFromConfig(c)))
  return Layer.mergeAll(DiscoveryService.layer, topologySql, ShellHookRunner.layer).pipe(
    Layer.provideMerge(Layer.mergeAll(CommandLog.layerLocal, prober).pipe(Layer.provideMerge(base)))
  )
}

export const build = (c: OrchestratorConfig) =>
  Effect.map(Layer.build(recoveryLayer(c)), (ctx) => ({
    ctx,
    discovery: Context.get(ctx, Discovery),
    repo: Context.get(ctx, Repository)
  }))

export const key = (k: string) => Either.getOrThrow(Key.parse(k))

/** Polls `check` every 50 ms until it gives a value; dies naming `what` after `timeoutMs`. */
export const waitFor = <A, E, R>(what: string, check: Effect.Effect<A | undefined, E, R>, timeoutMs = 30_000) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const v = yield* check
      if (v !== undefined) return v
      if (Date.now() > deadline) return yield* Effect.dieMessage(`timed out after ${timeoutMs} ms waiting for ${what}`)
      yield* Effect.sleep("50 millis")
    }
  })

/** The analysis of `master` as this node sees it (from its backend), when it has code `code`. */
export const analysisOf = (c: OrchestratorConfig, master: string, codes: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const s = yield* Snapshot.readWithConfig(c, { processingNode: { hostname: "test-node", token: "test-token" } })
    const a = analyze(s, { includeDowntimed: true }).find((x) => Key.format(x.analyzedInstanceKey) === master)
    return a !== undefined && codes.includes(a.analysis) ? a : undefined
  })

export type Analysis = ReplicationAnalysis

/** A client committing one row per transaction on the master until stopped or the master dies. */
export interface Writer {
  /** Rows whose COMMIT returned OK. */
  readonly committed: () => number
  readonly stop: () => Promise<void>
}

export const setupSchema = async (topo: Topology) => {
  await topo.master.query("CREATE DATABASE IF NOT EXISTS app", [], { user: "admin" })
  await topo.master.query("CREATE TABLE IF NOT EXISTS app.t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)", [], { user: "admin" })
  await topo.syncReplicas()
}

export const startWriter = async (target: MariaDbInstance, credentials: Topology["credentials"]): Promise<Writer> => {
  const conn = await mysql.createConnection({
    host: target.host,
    port: target.port,
    user: credentials.admin.user,
    password: credentials.admin.password
  })
  conn.on("error", () => undefined)
  let committed = 0
  let running = true
  const loop = (async () => {
    while (running) {
      try {
        await conn.query("INSERT INTO app.t (v) VALUES (1)")
        committed++
      } catch {
        return
      }
    }
  })()
  return {
    committed: () => committed,
    stop: async () => {
      running = false
      await Promise.race([loop, new Promise((r) => setTimeout(r, 2000))])
      conn.destroy()
    }
  }
}

/** `0-<server>-<seq>` → seq of domain 0 (the harness uses one domain). */
export const seqOf = (pos: string): number => {
  const parts = pos.split(",").map((p) => p.trim()).filter((p) => p.startsWith("0-"))
  return parts.length === 0 ? 0 : Number(parts[0]!.split("-")[2])
}

export const scalar = async (i: MariaDbInstance, sql: string): Promise<string> => {
  const [row] = await i.query(sql)
  return row === undefined ? "" : String(Object.values(row)[0] ?? "")
}
