/**
 * Builders for analysis scenarios: a MariaDB GTID topology by default (10.11, ROW, log_bin and
 * log_slave_updates on), every instance alive unless made `dead`. Times are fixed, so outputs are golden.
 */
import * as Model from "../../core/topology/Instance.js"
import type { Instance } from "../../core/topology/Instance.js"
import * as Key from "../../core/topology/InstanceKey.js"
import type { InstanceKey } from "../../core/topology/InstanceKey.js"

export const now = Date.UTC(2026, 10, 25, 19, 7, 31)
export const sec = 1000

export const key = (host: string, port = 3306): InstanceKey => Key.unsafeMake(host, port)

let serverIds = 100

/** A server that answered its last probe one second ago. */
export const server = (host: string, patch: Partial<Instance> = {}): Instance => {
  const k = key(host)
  return {
    ...Model.empty(k),
    serverId: ++serverIds,
    version: "10.11.9-MariaDB-log",
    versionComment: "MariaDB Server",
    flavor: "MariaDB",
    binlogFormat: "ROW",
    logBinEnabled: true,
    logReplicationUpdatesEnabled: true,
    selfBinlogCoordinates: { logFile: "mysql-bin.000003", logPos: 1000, type: "binary" },
    mariadbGtid: { currentPos: "0-1-100", slavePos: "0-1-100", binlogPos: "0-1-100", strictMode: true, domainId: 0 },
    clusterName: "m1:3306",
    dataCenter: "dc1",
    region: "eu",
    physicalEnvironment: "prod",
    lastCheckedAt: now - 1 * sec,
    lastSeenAt: now - 1 * sec,
    lastAttemptedCheckAt: now - 1 * sec,
    lastCheckValid: true,
    lastCheckPartialSuccess: true,
    ...patch
  }
}

export const master = (host = "m1", patch: Partial<Instance> = {}): Instance => server(host, patch)

export interface ReplicaOptions {
  readonly io?: string
  readonly sql?: string
  readonly lastIoError?: string
  readonly exec?: number
  readonly execFile?: string
  readonly seq?: number
  readonly lag?: number | null
  readonly sqlDelay?: number
  readonly usingGtid?: string
  readonly depth?: number
}

/** A replica of `of`, replicating (Yes/Yes) unless told otherwise. */
export const replica = (host: string, of: Instance, o: ReplicaOptions = {}, patch: Partial<Instance> = {}): Instance => {
  const seq = o.seq ?? 100
  const pos = `0-1-${seq}`
  const exec = { logFile: o.execFile ?? "mysql-bin.000003", logPos: o.exec ?? 1000, type: "binary" as const }
  return server(host, {
    replication: {
      channelName: "",
      masterKey: of.key,
      masterUser: "repl",
      masterServerId: of.serverId,
      masterUuid: null,
      ioRunning: o.io ?? "Yes",
      sqlRunning: o.sql ?? "Yes",
      ioStateText: "",
      sqlStateText: "",
      readBinlogCoordinates: exec,
      execBinlogCoordinates: exec,
      relaylogCoordinates: { logFile: "relay-bin.000002", logPos: 500, type: "relay" },
      lastIoErrno: o.lastIoError === undefined ? 0 : 2003,
      lastIoError: o.lastIoError ?? "",
      lastSqlErrno: 0,
      lastSqlError: "",
      lastIoErrorTimestamp: "",
      lastSqlErrorTimestamp: "",
      secondsBehindMaster: o.lag === undefined ? 0 : o.lag,
      sqlDelay: o.sqlDelay ?? 0,
      sqlRemainingDelay: null,
      sslAllowed: false,
      autoPosition: false,
      retrievedGtidSet: "",
      executedGtidSet: "",
      usingGtid: o.usingGtid ?? "Slave_Pos",
      gtidIoPos: pos,
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
    },
    readOnly: true,
    replicationLagSeconds: o.lag === undefined ? 0 : o.lag,
    replicationDepth: o.depth ?? of.replicationDepth + 1,
    clusterName: of.clusterName,
    mariadbGtid: { currentPos: pos, slavePos: pos, binlogPos: pos, strictMode: true, domainId: 0 },
    ...patch
  })
}

/** The replica's IO thread lost the master (MariaDB's text; orchestrator matches "error %connecting to master"). */
export const failingToConnect: ReplicaOptions = {
  io: "Connecting",
  sql: "Yes",
  lastIoError: "error reconnecting to master 'repl@m1:3306' - retry-time: 1  maximum-retries: 86400  message: Can't connect to server on 'm1' (111 \"Connection refused\")"
}

/** Both threads stopped (STOP SLAVE): valid, not replicating, not failing to connect. */
export const stopped: ReplicaOptions = { io: "No", sql: "No" }

/** Its last probe failed: last_checked moved past last_seen. */
export const dead = (i: Instance): Instance => ({
  ...i,
  lastCheckedAt: now - 1 * sec,
  lastSeenAt: now - 30 * sec,
  lastAttemptedCheckAt: now - 1 * sec,
  lastCheckValid: false,
  lastCheckPartialSuccess: false
})

/** Partially probed: failed after reading the variables (orchestrator's last_check_partial_success). */
export const partial = (i: Instance): Instance => ({ ...dead(i), lastCheckPartialSuccess: true })

export const semiSyncMaster = (i: Instance, s: { status: boolean; wait: number; clients: number }): Instance => ({
  ...i,
  semiSync: {
    ...Model.emptySemiSync,
    available: true,
    masterEnabled: true,
    masterStatus: s.status,
    masterWaitForReplicaCount: s.wait,
    masterClients: s.clients,
    naming: "master-slave"
  }
})

/** The two masters of a co-master pair, each replicating from the other. */
export const coMasters = (): readonly [Instance, Instance] => {
  const a0 = server("cm1", { isCoMaster: true, clusterName: "cm1:3306" })
  const b0 = server("cm2", { isCoMaster: true, clusterName: "cm1:3306" })
  const a = replica("cm1", b0, {}, { isCoMaster: true, clusterName: "cm1:3306", serverId: a0.serverId, readOnly: false })
  const b = replica("cm2", a0, {}, { isCoMaster: true, clusterName: "cm1:3306", serverId: b0.serverId })
  return [a, b]
}

export const withSql = (i: Instance, patch: Partial<NonNullable<Instance["replication"]>>): Instance =>
  i.replication === null ? i : { ...i, replication: { ...i.replication, ...patch } }
