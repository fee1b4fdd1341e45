import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as Model from "../../core/topology/Instance.js"
import { Instance } from "../../core/topology/Instance.js"
import * as Json from "../../core/topology/InstanceJson.js"
import * as Key from "../../core/topology/InstanceKey.js"

/** Spec orchestrator-compat §2.13 (= the field order of `Instance` in go/inst/instance.go). */
const orchestratorKeys = [
  "Key", "InstanceAlias", "Uptime", "ServerID", "ServerUUID", "Version", "VersionComment", "FlavorName", "ReadOnly",
  "Binlog_format", "BinlogRowImage", "LogBinEnabled", "LogSlaveUpdatesEnabled", "LogReplicationUpdatesEnabled",
  "SelfBinlogCoordinates", "MasterKey", "MasterUUID", "AncestryUUID", "IsDetachedMaster", "Slave_SQL_Running",
  "ReplicationSQLThreadRuning", "Slave_IO_Running", "ReplicationIOThreadRuning", "ReplicationSQLThreadState",
  "ReplicationIOThreadState", "HasReplicationFilters", "GTIDMode", "SupportsOracleGTID", "UsingOracleGTID",
  "UsingMariaDBGTID", "UsingPseudoGTID", "ReadBinlogCoordinates", "ExecBinlogCoordinates", "IsDetached",
  "RelaylogCoordinates", "LastSQLError", "LastIOError", "SecondsBehindMaster", "SQLDelay", "ExecutedGtidSet",
  "GtidPurged", "GtidErrant", "SlaveLagSeconds", "ReplicationLagSeconds", "SlaveHosts", "Replicas", "ClusterName",
  "SuggestedClusterAlias", "DataCenter", "Region", "PhysicalEnvironment", "ReplicationDepth", "IsCoMaster",
  "HasReplicationCredentials", "ReplicationCredentialsAvailable", "SemiSyncAvailable", "SemiSyncPriority",
  "SemiSyncMasterEnabled", "SemiSyncReplicaEnabled", "SemiSyncMasterTimeout", "SemiSyncMasterWaitForReplicaCount",
  "SemiSyncMasterStatus", "SemiSyncMasterClients", "SemiSyncReplicaStatus", "LastSeenTimestamp", "IsLastCheckValid",
  "IsUpToDate", "IsRecentlyChecked", "SecondsSinceLastSeen", "CountMySQLSnapshots", "IsCandidate", "PromotionRule",
  "IsDowntimed", "DowntimeReason", "DowntimeOwner", "DowntimeEndTimestamp", "ElapsedDowntime", "UnresolvedHostname",
  "AllowTLS", "Problems", "LastDiscoveryLatency", "ReplicationGroupName", "ReplicationGroupIsSinglePrimary",
  "ReplicationGroupMemberState", "ReplicationGroupMemberRole", "ReplicationGroupMembers",
  "ReplicationGroupPrimaryInstanceKey"
]

const now = Date.UTC(2026, 10, 25, 19, 7, 31)
const ctx: Json.JsonContext = { now, instancePollSeconds: 5, reasonableReplicationLagSeconds: 10 }
const key = Key.unsafeMake("db-1.example", 3306)

const master: Model.Instance = {
  ...Model.empty(key),
  version: "8.4.3",
  versionComment: "MySQL Community Server - GPL",
  flavor: "MySQL",
  serverId: 1,
  serverUuid: "3e11fa47-71ca-11e1-9e33-c80aa9429562",
  logBinEnabled: true,
  logReplicationUpdatesEnabled: true,
  binlogFormat: "ROW",
  binlogRowImage: "FULL",
  selfBinlogCoordinates: { logFile: "binlog.000002", logPos: 158, type: "binary" },
  gtidMode: "ON",
  replicas: [Key.unsafeMake("db-3", 3306), Key.unsafeMake("db-2", 3306)],
  lastCheckedAt: now - 1500,
  lastSeenAt: now - 1500,
  lastAttemptedCheckAt: now - 1500,
  lastCheckValid: true,
  lastCheckPartialSuccess: true,
  lastDiscoveryLatencyMs: 1.25
}

const replication: Model.ReplicaStatus = {
  channelName: "",
  masterKey: key,
  masterUser: "repl",
  masterServerId: 1,
  masterUuid: master.serverUuid,
  ioRunning: "Yes",
  sqlRunning: "Yes",
  ioStateText: "Waiting for source to send event",
  sqlStateText: "",
  readBinlogCoordinates: { logFile: "binlog.000002", logPos: 158, type: "binary" },
  execBinlogCoordinates: { logFile: "binlog.000002", logPos: 158, type: "binary" },
  relaylogCoordinates: { logFile: "relay.000004", logPos: 400, type: "relay" },
  lastIoErrno: 0,
  lastIoError: "",
  lastSqlErrno: 0,
  lastSqlError: "",
  lastIoErrorTimestamp: "",
  lastSqlErrorTimestamp: "",
  secondsBehindMaster: 42,
  sqlDelay: 0,
  sqlRemainingDelay: null,
  sslAllowed: false,
  autoPosition: true,
  retrievedGtidSet: "",
  executedGtidSet: "",
  usingGtid: null,
  gtidIoPos: "",
  connectRetry: 60,
  filters: {
    doDb: "", ignoreDb: "", doTable: "", ignoreTable: "", wildDoTable: "", wildIgnoreTable: "",
    doDomainIds: "", ignoreDomainIds: "", ignoreServerIds: "", rewriteDb: ""
  }
}

const replica: Model.Instance = {
  ...master,
  key: Key.unsafeMake("db-2", 3306),
  serverId: 2,
  readOnly: true,
  replicas: [],
  replication,
  replicationLagSeconds: 42,
  clusterName: "db-1.example:3306",
  replicationDepth: 1
}

describe("Instance JSON (orchestrator shape)", () => {
  it("has exactly orchestrator's keys, in order", () => {
    expect(Object.keys(Json.encode(master, ctx))).toEqual(orchestratorKeys)
    expect(Object.keys(JSON.parse(Json.toJsonText(replica, ctx)))).toEqual(orchestratorKeys)
  })

  it("encodes a master the way orchestrator does", () => {
    const j = Json.encode(master, ctx)
    expect(j.Key).toEqual({ Hostname: "db-1.example", Port: 3306 })
    expect(j.MasterKey).toEqual({ Hostname: "", Port: 0 })
    expect(j.MasterUUID).toBe("")
    expect([j.ReplicationSQLThreadState, j.ReplicationIOThreadState]).toEqual([-1, -1])
    expect(j.Slave_SQL_Running).toBe(false)
    expect(j.SelfBinlogCoordinates).toEqual({ LogFile: "binlog.000002", LogPos: 158, Type: 0 })
    expect(j.ReadBinlogCoordinates).toEqual({ LogFile: "", LogPos: 0, Type: 0 })
    expect(j.RelaylogCoordinates).toEqual({ LogFile: "", LogPos: 0, Type: 1 })
    expect(j.SecondsBehindMaster).toEqual({ Int64: 0, Valid: false })
    expect(j.SlaveLagSeconds).toEqual({ Int64: 0, Valid: false })
    // InstanceKeyMap marshals sorted by hostname, port.
    expect(j.Replicas).toEqual([{ Hostname: "db-2", Port: 3306 }, { Hostname: "db-3", Port: 3306 }])
    expect(j.SlaveHosts).toEqual(j.Replicas)
    expect(j.ClusterName).toBe("db-1.example:3306")
    expect(j.LastSeenTimestamp).toBe("2026-11-25 19:07:29")
    expect(j.SecondsSinceLastSeen).toEqual({ Int64: 2, Valid: true })
    expect([j.IsLastCheckValid, j.IsUpToDate, j.IsRecentlyChecked]).toEqual([true, true, true])
    expect(j.PromotionRule).toBe("neutral")
    expect(j.IsCandidate).toBe(false)
    expect(j.LastDiscoveryLatency).toBe(1_250_000)
    expect(j.ElapsedDowntime).toBe(0)
    expect(j.Problems).toEqual([])
    expect(j.ReplicationGroupMembers).toEqual([])
    expect(j.ReplicationGroupPrimaryInstanceKey).toEqual({ Hostname: "", Port: 0 })
  })

  it("encodes a replica, the legacy duplicates and lag problems", () => {
    const j = Json.encode(replica, ctx)
    expect(j.MasterKey).toEqual({ Hostname: "db-1.example", Port: 3306 })
    const running = [j.Slave_SQL_Running, j.ReplicationSQLThreadRuning, j.Slave_IO_Running, j.ReplicationIOThreadRuning]
    expect(running).toEqual([true, true, true, true])
    expect([j.ReplicationSQLThreadState, j.ReplicationIOThreadState]).toEqual([1, 1])
    expect(j.SecondsBehindMaster).toEqual({ Int64: 42, Valid: true })
    expect(j.ReplicationLagSeconds).toEqual(j.SlaveLagSeconds)
    expect(j.RelaylogCoordinates.Type).toBe(1)
    expect(j.HasReplicationCredentials).toBe(true)
    expect(j.UsingOracleGTID).toBe(true)
    expect(j.Problems).toEqual(["replication_lag"])
    // SQL_Delay is subtracted from the lag before comparing (readInstanceRow).
    expect(Json.encode({ ...replica, replication: { ...replication, sqlDelay: 40 } }, ctx).Problems).toEqual([])
  })

  it("problems: last_check_invalid, not_recently_checked, not_replicating, errant_gtid", () => {
    expect(Json.problems({ ...master, lastSeenAt: now - 60_000 }, ctx)).toEqual(["last_check_invalid"])
    expect(Json.problems({ ...master, lastCheckedAt: now - 60_000, lastSeenAt: now - 60_000 }, ctx)).toEqual([
      "not_recently_checked"
    ])
    const stopped = { ...replica, replication: { ...replication, sqlRunning: "No" } }
    expect(Json.problems(stopped, ctx)).toEqual(["not_replicating"])
    expect(Json.problems({ ...master, gtidErrant: "x:1" }, ctx)).toEqual(["errant_gtid"])
  })

  it("downtime and candidate info", () => {
    const j = Json.encode(master, {
      ...ctx,
      downtime: { reason: "maintenance <db>", owner: "ops", beginAt: now - 90_000, endAt: now + 3_600_000 },
      candidate: { promotionRule: "prefer", lastSuggestedAt: now - 1000 }
    })
    expect(j.IsDowntimed).toBe(true)
    expect(j.DowntimeReason).toBe("maintenance <db>")
    expect(j.DowntimeEndTimestamp).toBe("2026-11-25 20:07:31")
    expect(j.ElapsedDowntime).toBe(90 * 1_000_000_000)
    expect(j.IsCandidate).toBe(true)
    expect(j.PromotionRule).toBe("prefer")
    const expired = Json.encode(master, {
      ...ctx,
      downtime: { reason: "", owner: "", beginAt: now - 10_000, endAt: now - 1 }
    })
    expect(expired.IsDowntimed).toBe(false)
    expect(Json.encode(master, { ...ctx, timestampFormat: "rfc3339" }).LastSeenTimestamp).toBe("2026-11-25T19:07:29Z")
  })

  it("writes strings like Go's encoding/json and errors like strconv.QuoteToASCII", () => {
    const text = Json.toJsonText({ ...master, instanceAlias: "a<b>&c\u2028é\u0001" }, ctx)
    expect(text).toContain(`"InstanceAlias":"a\\u003cb\\u003e\\u0026c\\u2028é\\u0001"`)
    expect(text.startsWith(`{"Key":{"Hostname":"db-1.example","Port":3306},"InstanceAlias"`)).toBe(true)
    expect(Json.goQuoteToAscii("a\"b\\c\né\u{1F600}\u0001")).toBe("\"a\\\"b\\\\c\\n\\u00e9\\U0001f600\\x01\"")
    const broken = { ...replica, replication: { ...replication, lastSqlError: "Error 'Duplicate entry' on query" } }
    expect(Json.encode(broken, ctx).LastSQLError).toBe("\"Error 'Duplicate entry' on query\"")
  })

  it("AncestryUUID as orchestrator builds it", () => {
    const base = { masterAncestryUuid: "", masterUuid: "", serverUuid: "", isCoMaster: false, groupName: "" }
    expect(Model.ancestryUuid(base)).toBe("")
    expect(Model.ancestryUuid({ ...base, masterAncestryUuid: "a", serverUuid: "b" })).toBe("a,b")
    expect(Model.ancestryUuid({ ...base, masterAncestryUuid: "a,b", serverUuid: "c", groupName: "g" })).toBe("a,b,c,g")
    expect(Model.ancestryUuid({ ...base, masterUuid: "m", serverUuid: "s", isCoMaster: true })).toBe("m,s")
    // Empty parts in the middle stay, as with Go's strings.Trim.
    expect(Model.ancestryUuid({ ...base, masterAncestryUuid: "a", groupName: "g" })).toBe("a,,g")
  })

  it("the domain model round-trips through its JSON schema (backend storage)", () => {
    const encode = Schema.encodeSync(Instance)
    const decode = Schema.decodeUnknownSync(Instance)
    for (const i of [master, replica]) {
      const back = decode(JSON.parse(JSON.stringify(encode(i))))
      expect(Json.encode(back, ctx)).toEqual(Json.encode(i, ctx))
      expect(back.replicas.every((k) => k instanceof Key.InstanceKey)).toBe(true)
    }
    expect(() => decode({ ...encode(master), uptime: -1 })).toThrow()
  })
})
