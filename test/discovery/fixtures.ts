/** Test helpers: scripted instances for the memory prober, and a discovery layer over SQLite in memory. */
import { Effect, Layer } from "effect"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import * as AppConfig from "../../core/config/AppConfig.js"
import { defaults, type OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { makeMemory, Prober } from "../../core/discovery/Prober.js"
import * as CommandLog from "../../core/ops/CommandLog.js"
import * as Model from "../../core/topology/Instance.js"
import type { Instance, ReplicaStatus } from "../../core/topology/Instance.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"
import * as Key from "../../core/topology/InstanceKey.js"
import * as DiscoveryService from "../../service/Discovery.js"

export const key = (port: number, host = "10.0.0.1"): InstanceKey => Key.unsafeMake(host, port)

export const replication = (master: InstanceKey, io = "Yes", sql = "Yes"): ReplicaStatus => ({
  channelName: "",
  masterKey: master,
  masterUser: "repl",
  masterServerId: master.port,
  masterUuid: null,
  ioRunning: io,
  sqlRunning: sql,
  ioStateText: "",
  sqlStateText: "",
  readBinlogCoordinates: { logFile: "mysql-bin.000001", logPos: 100, type: "binary" },
  execBinlogCoordinates: { logFile: "mysql-bin.000001", logPos: 100, type: "binary" },
  relaylogCoordinates: { logFile: "relay-bin.000002", logPos: 50, type: "relay" },
  lastIoErrno: io === "Yes" ? 0 : 2003,
  lastIoError: io === "Yes" ? "" : "error reconnecting to master",
  lastSqlErrno: 0,
  lastSqlError: "",
  lastIoErrorTimestamp: "",
  lastSqlErrorTimestamp: "",
  secondsBehindMaster: io === "Yes" && sql === "Yes" ? 0 : null,
  sqlDelay: 0,
  sqlRemainingDelay: null,
  sslAllowed: false,
  autoPosition: false,
  retrievedGtidSet: "",
  executedGtidSet: "",
  usingGtid: "Slave_Pos",
  gtidIoPos: "",
  connectRetry: 1,
  filters: {
    doDb: "",
    ignoreDb: "",
    doTable: "",
    ignoreTable: "",
    wildDoTable: "",
    wildIgnoreTable: "",
    doDomainIds: "",
    ignoreDomainIds: "",
    ignoreServerIds: "",
    rewriteDb: ""
  }
})

/** A MariaDB-like server: master when `master` is omitted. */
export const server = (
  k: InstanceKey,
  options: { readonly master?: InstanceKey; readonly replicas?: ReadonlyArray<InstanceKey>; readonly alias?: string } = {}
): Instance => ({
  ...Model.empty(k),
  version: "10.11.19-MariaDB-log",
  versionComment: "Debian 12",
  flavor: "MariaDB",
  serverId: k.port,
  readOnly: options.master !== undefined,
  logBinEnabled: true,
  logReplicationUpdatesEnabled: true,
  binlogFormat: "ROW",
  replication: options.master === undefined ? null : replication(options.master),
  replicationLagSeconds: options.master === undefined ? null : 0,
  replicas: Key.sortedUnique(options.replicas ?? []),
  suggestedClusterAlias: options.alias ?? ""
})

/** Adds a tree to the fleet: `masters[i]` = index of i's master or null; ports 3301.. */
export const addTree = (fleet: ReturnType<typeof makeMemory>["fleet"], masters: ReadonlyArray<number | null>, base = 3301) => {
  const keys = masters.map((_, i) => key(base + i))
  masters.forEach((m, i) => {
    const replicas = masters.flatMap((mm, j) => (mm === i ? [keys[j]!] : []))
    fleet.set(keys[i]!, {
      _tag: "Up",
      instance: server(keys[i]!, m === null ? { replicas } : { master: keys[m]!, replicas })
    })
  })
  return keys
}

export const config = (overrides: Partial<OrchestratorConfig> = {}): OrchestratorConfig => ({
  ...defaults,
  BackendDB: "sqlite",
  SQLite3DataFile: ":memory:",
  ...overrides
})

/** Discovery over a memory fleet, an in-memory SQLite backend and the local command log. */
export const discoveryLayer = (c: OrchestratorConfig, prober: Prober["Type"]) => {
  const base = Layer.mergeAll(layerSqlite({ filename: ":memory:" }), AppConfig.layer(c), Layer.succeed(Prober, prober))
  const withLog = CommandLog.layerLocal.pipe(Layer.provideMerge(base))
  return DiscoveryService.layer.pipe(Layer.provideMerge(withLog))
}

/** Lets forked fibers run (memory probes complete synchronously). */
export const settle = (rounds = 20) => Effect.repeatN(Effect.yieldNow(), rounds)
