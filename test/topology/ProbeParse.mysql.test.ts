/**
 * Parsers on hand-written Oracle MySQL rows (no Oracle server can run here). Column names, order and
 * types are those of /work/shared/spec/mysql8.md §1.1 (server `show_slave_status_metadata()`, 8.0/8.4
 * manuals); values follow the captured 8.0.21/8.0.30 samples cited there ([ND8021], [ND8030]).
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Model from "../../core/topology/Instance.js"
import * as Json from "../../core/topology/InstanceJson.js"
import * as Key from "../../core/topology/InstanceKey.js"
import * as ProbeParse from "../../core/topology/probe/ProbeParse.js"
import type { RawRow } from "../../core/topology/probe/RawRow.js"

const sourceUuid = "61221e31-1ef3-11ed-a56a-0242ac120002"
const ownUuid = "7d3a0f46-1ef3-11ed-a8b7-0242ac120003"
// The server separates UUID sets with ",\n" (mysql8.md §3.4).
const executed = `${sourceUuid}:1-3,\n${ownUuid}:1`

const values = (o: Record<string, string | number | null>): ReadonlyArray<string | number | null> => Object.values(o)

/** SHOW SLAVE STATUS on 8.0.30 (old names even on 8.0.22+, mysql8.md §1.2): all 60 columns in order. */
const slaveStatus80: RawRow = {
  Slave_IO_State: "Waiting for source to send event",
  Master_Host: "mysql8-source",
  Master_User: "repl",
  Master_Port: 3306,
  Connect_Retry: 60,
  Master_Log_File: "mysql-bin.000002",
  Read_Master_Log_Pos: 1557,
  Relay_Log_File: "mysql8-replica-relay-bin.000002",
  Relay_Log_Pos: 871,
  Relay_Master_Log_File: "mysql-bin.000002",
  Slave_IO_Running: "Yes",
  Slave_SQL_Running: "Yes",
  Replicate_Do_DB: "",
  Replicate_Ignore_DB: "",
  Replicate_Do_Table: "",
  Replicate_Ignore_Table: "",
  Replicate_Wild_Do_Table: "",
  Replicate_Wild_Ignore_Table: "",
  Last_Errno: 0,
  Last_Error: "",
  Skip_Counter: 0,
  Exec_Master_Log_Pos: 1557,
  Relay_Log_Space: 1083,
  Until_Condition: "None",
  Until_Log_File: "",
  Until_Log_Pos: 0,
  Master_SSL_Allowed: "No",
  Master_SSL_CA_File: "",
  Master_SSL_CA_Path: "",
  Master_SSL_Cert: "",
  Master_SSL_Cipher: "",
  Master_SSL_Key: "",
  Seconds_Behind_Master: 0,
  Master_SSL_Verify_Server_Cert: "No",
  Last_IO_Errno: 0,
  Last_IO_Error: "",
  Last_SQL_Errno: 0,
  Last_SQL_Error: "",
  Replicate_Ignore_Server_Ids: "",
  Master_Server_Id: 1,
  Master_UUID: sourceUuid,
  Master_Info_File: "mysql.slave_master_info",
  SQL_Delay: 0,
  SQL_Remaining_Delay: null,
  Slave_SQL_Running_State: "Replica has read all relay log; waiting for more updates",
  Master_Retry_Count: 86400,
  Master_Bind: "",
  Last_IO_Error_Timestamp: "",
  Last_SQL_Error_Timestamp: "",
  Master_SSL_Crl: "",
  Master_SSL_Crlpath: "",
  Retrieved_Gtid_Set: `${sourceUuid}:1-3`,
  Executed_Gtid_Set: executed,
  Auto_Position: 1,
  Replicate_Rewrite_DB: "",
  Channel_Name: "",
  Master_TLS_Version: "",
  Master_public_key_path: "",
  Get_master_public_key: 0,
  Network_Namespace: ""
}

/** SHOW REPLICA STATUS on 8.4: the new names, a receiver that cannot reach its source (mysql8.md §5.1). */
const replicaStatus84: RawRow = {
  Replica_IO_State: "Connecting to source",
  Source_Host: "mysql84-source",
  Source_User: "repl",
  Source_Port: 3306,
  Connect_Retry: 60,
  Source_Log_File: "binlog.000007",
  Read_Source_Log_Pos: 4242,
  Relay_Log_File: "replica-relay-bin.000011",
  Relay_Log_Pos: 411,
  Relay_Source_Log_File: "binlog.000007",
  Replica_IO_Running: "Connecting",
  Replica_SQL_Running: "Yes",
  Replicate_Do_DB: "app",
  Replicate_Ignore_DB: "",
  Replicate_Do_Table: "",
  Replicate_Ignore_Table: "",
  Replicate_Wild_Do_Table: "",
  Replicate_Wild_Ignore_Table: "",
  Last_Errno: 0,
  Last_Error: "",
  Skip_Counter: 0,
  Exec_Source_Log_Pos: 4100,
  Relay_Log_Space: 1083,
  Until_Condition: "None",
  Until_Log_File: "",
  Until_Log_Pos: 0,
  Source_SSL_Allowed: "Yes",
  Source_SSL_CA_File: "",
  Source_SSL_CA_Path: "",
  Source_SSL_Cert: "",
  Source_SSL_Cipher: "",
  Source_SSL_Key: "",
  Seconds_Behind_Source: null,
  Source_SSL_Verify_Server_Cert: "No",
  Last_IO_Errno: 2003,
  Last_IO_Error:
    "Error connecting to source 'repl@mysql84-source:3306'. This was attempt 3/10, with a delay of 60 seconds " +
    "between attempts. Message: Can't connect to MySQL server on 'mysql84-source:3306' (111)",
  Last_SQL_Errno: 0,
  Last_SQL_Error: "",
  Replicate_Ignore_Server_Ids: "",
  Source_Server_Id: 1,
  Source_UUID: sourceUuid,
  Source_Info_File: "mysql.slave_master_info",
  SQL_Delay: 3600,
  SQL_Remaining_Delay: null,
  Replica_SQL_Running_State: "Replica has read all relay log; waiting for more updates",
  Source_Retry_Count: 10,
  Source_Bind: "",
  Last_IO_Error_Timestamp: "250101 07:57:38",
  Last_SQL_Error_Timestamp: "",
  Source_SSL_Crl: "",
  Source_SSL_Crlpath: "",
  Retrieved_Gtid_Set: `${sourceUuid}:1-3`,
  Executed_Gtid_Set: executed,
  Auto_Position: 1,
  Replicate_Rewrite_DB: "",
  Channel_Name: "",
  Source_TLS_Version: "",
  Source_public_key_path: "",
  Get_Source_public_key: 1,
  Network_Namespace: ""
}

const globals = (version: string, serverId: number): RawRow => ({
  version,
  version_comment: "MySQL Community Server - GPL",
  hostname: "db-host",
  report_host: "10.0.0.2",
  report_port: 3306,
  server_id: serverId,
  read_only: 1,
  binlog_format: "ROW",
  binlog_row_image: "FULL",
  log_bin: 1
})

const mysqlVariables: RawRow = {
  gtid_mode: "ON",
  server_uuid: ownUuid,
  gtid_executed: executed,
  gtid_purged: "",
  master_info_repository_on_table: 1,
  super_read_only: 1,
  log_replica_updates: 1
}

/** SHOW MASTER STATUS / SHOW BINARY LOG STATUS: five columns on 5.7 and 8.x (mysql8.md §2.1). */
const binlogRow = (file: string, position: number): RawRow => ({
  File: file,
  Position: position,
  Binlog_Do_DB: "",
  Binlog_Ignore_DB: "",
  Executed_Gtid_Set: executed
})

const now = Date.UTC(2026, 0, 1, 0, 0, 0)
const key = Key.unsafeMake("10.0.0.2", 3306)
const jsonCtx: Json.JsonContext = { now: now + 1000, instancePollSeconds: 5, reasonableReplicationLagSeconds: 10 }
const assemble = (results: ProbeParse.ProbeResults) =>
  Either.getOrThrow(ProbeParse.assemble(results, { key, now, latencyMs: 2, hostnameResolve: "none" }))

describe("MySQL 8.0 (SHOW SLAVE STATUS, SHOW MASTER STATUS)", () => {
  it("has the 60 columns of mysql8.md §1.1", () => {
    expect(Object.keys(slaveStatus80).length).toBe(60)
    expect(Object.keys(replicaStatus84).length).toBe(60)
    expect(values(slaveStatus80 as Record<string, string | number | null>).length).toBe(60)
  })

  it("parses a healthy auto-position replica", () => {
    const i = assemble({
      globals: [globals("8.0.30", 2)],
      uptime: [{ Variable_name: "Uptime", Value: "86400" }],
      semiSyncVariables: [
        { Variable_name: "rpl_semi_sync_slave_enabled", Value: "ON" },
        { Variable_name: "rpl_semi_sync_slave_trace_level", Value: "32" }
      ],
      semiSyncStatus: [{ Variable_name: "Rpl_semi_sync_slave_status", Value: "ON" }],
      flavourVariables: [mysqlVariables],
      binlogStatus: [binlogRow("mysql-bin.000003", 197)],
      replicaStatus: [slaveStatus80],
      processlistReplicas: [],
      groupReplicationName: [],
      replicationCredentials: [{ credentials_available: 1 }]
    })
    expect(i.flavor).toBe("MySQL")
    expect(i.uptime).toBe(86400)
    expect(i.serverUuid).toBe(ownUuid)
    expect(i.gtidMode).toBe("ON")
    expect(i.executedGtidSet).toBe(executed)
    expect(i.superReadOnly).toBe(true)
    expect(i.masterInfoOnTable).toBe(true)
    expect(i.replicationCredentialsAvailable).toBe(true)
    expect(i.selfBinlogCoordinates).toEqual({ logFile: "mysql-bin.000003", logPos: 197, type: "binary" })
    const r = i.replication!
    expect(Key.format(r.masterKey!)).toBe("mysql8-source:3306")
    expect(r.masterUuid).toBe(sourceUuid)
    expect(r.autoPosition).toBe(true)
    expect(r.usingGtid).toBeNull()
    expect(r.retrievedGtidSet).toBe(`${sourceUuid}:1-3`)
    expect(r.execBinlogCoordinates).toEqual({ logFile: "mysql-bin.000002", logPos: 1557, type: "binary" })
    expect(i.semiSync).toMatchObject({
      available: false,
      replicaEnabled: true,
      replicaStatus: true,
      naming: "master-slave"
    })
    expect(Model.usingOracleGtid(i)).toBe(true)
    expect(Model.supportsOracleGtid(i)).toBe(true)
    expect(Model.replicaRunning(i)).toBe(true)
    expect(i.group).toBeNull()

    const j = Json.encode(i, jsonCtx)
    expect(j.MasterUUID).toBe(sourceUuid)
    expect(j.UsingOracleGTID).toBe(true)
    expect(j.SupportsOracleGTID).toBe(true)
    expect(j.GTIDMode).toBe("ON")
    expect(j.RelaylogCoordinates).toEqual({ LogFile: "mysql8-replica-relay-bin.000002", LogPos: 871, Type: 1 })
    expect(j.LastIOError).toBe("")
  })
})

describe("MySQL 8.4 (SHOW REPLICA STATUS, SHOW BINARY LOG STATUS, new semi-sync plugin)", () => {
  const results: ProbeParse.ProbeResults = {
    globals: [globals("8.4.3", 3)],
    uptime: [{ Variable_name: "Uptime", Value: "120" }],
    semiSyncVariables: [
      { Variable_name: "rpl_semi_sync_replica_enabled", Value: "ON" },
      { Variable_name: "rpl_semi_sync_source_enabled", Value: "ON" },
      { Variable_name: "rpl_semi_sync_source_timeout", Value: "10000" },
      { Variable_name: "rpl_semi_sync_source_wait_for_replica_count", Value: "2" }
    ],
    semiSyncStatus: [
      { Variable_name: "Rpl_semi_sync_replica_status", Value: "OFF" },
      { Variable_name: "Rpl_semi_sync_source_clients", Value: "0" },
      { Variable_name: "Rpl_semi_sync_source_status", Value: "OFF" }
    ],
    flavourVariables: [mysqlVariables],
    binlogStatus: [binlogRow("binlog.000002", 158)],
    replicaStatus: [replicaStatus84],
    processlistReplicas: [{ slave_hostname: "10.0.0.7" }, { slave_hostname: "10.0.0.5" }],
    groupReplicationName: []
  }

  it("reads the Source_*/Replica_* names", () => {
    const i = assemble(results)
    const r = i.replication!
    expect(Key.format(r.masterKey!)).toBe("mysql84-source:3306")
    expect([r.ioRunning, r.sqlRunning]).toEqual(["Connecting", "Yes"])
    expect(r.readBinlogCoordinates).toEqual({ logFile: "binlog.000007", logPos: 4242, type: "binary" })
    expect(r.execBinlogCoordinates).toEqual({ logFile: "binlog.000007", logPos: 4100, type: "binary" })
    expect(r.masterServerId).toBe(1)
    expect(r.masterUuid).toBe(sourceUuid)
    expect(r.sqlDelay).toBe(3600)
    expect(r.secondsBehindMaster).toBeNull()
    expect(r.sslAllowed).toBe(true)
    expect(r.lastIoErrorTimestamp).toBe("250101 07:57:38")
    expect(r.filters.doDb).toBe("app")
    expect(r.ioStateText).toBe("Connecting to source")
    expect(i.semiSync).toEqual({
      available: true,
      priority: 0,
      masterEnabled: true,
      replicaEnabled: true,
      masterTimeoutMs: 10000,
      masterWaitForReplicaCount: 2,
      masterStatus: false,
      masterClients: 0,
      replicaStatus: false,
      naming: "source-replica"
    })
    expect(i.selfBinlogCoordinates.logFile).toBe("binlog.000002")
    expect(i.replicas.map(Key.format)).toEqual(["10.0.0.5:3306", "10.0.0.7:3306"])
    expect(Model.hasReplicationFilters(i)).toBe(true)
    // The 8.0.33+ wording ("Error connecting to source", capital E) is still a connect failure.
    expect(Model.isFailingToConnectToMaster(i)).toBe(true)
    expect(Model.sqlThreadUpToDate(i)).toBe(false)
  })

  it("encodes orchestrator's fields for it", () => {
    const j = Json.encode(assemble(results), jsonCtx)
    expect(j.ReplicationIOThreadState).toBe(2)
    expect(j.ReplicationSQLThreadState).toBe(1)
    expect(j.HasReplicationFilters).toBe(true)
    expect(j.AllowTLS).toBe(true)
    expect(j.SQLDelay).toBe(3600)
    expect(j.SemiSyncMasterWaitForReplicaCount).toBe(2)
    expect(j.SlaveHosts).toEqual([{ Hostname: "10.0.0.5", Port: 3306 }, { Hostname: "10.0.0.7", Port: 3306 }])
    expect(j.Problems).toEqual(["not_replicating"])
  })

  it("multi-channel: the default channel row is used", () => {
    const other = { ...replicaStatus84, Channel_Name: "analytics", Source_Host: "other-source" }
    const healthy = { ...replicaStatus84, Replica_IO_Running: "Yes" }
    const i = assemble({ ...results, replicaStatus: [other, healthy] })
    expect(i.replication?.masterKey?.hostname).toBe("mysql84-source")
  })

  it("group replication members", () => {
    const group = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    const member = (id: string, host: string, role: string): RawRow => ({
      MEMBER_ID: id,
      MEMBER_HOST: host,
      MEMBER_PORT: 3306,
      MEMBER_STATE: "ONLINE",
      MEMBER_ROLE: role,
      group_name: group,
      single_primary_mode: 1
    })
    const rows = [member(ownUuid, "gr1", "SECONDARY"), member(sourceUuid, "gr0", "PRIMARY")]
    const g = ProbeParse.parseGroupMembers(rows, ownUuid)
    expect(g?.memberRole).toBe("SECONDARY")
    expect(g?.primaryKey && Key.format(g.primaryKey)).toBe("gr0:3306")
    expect(g?.members.map(Key.format)).toEqual(["gr0:3306", "gr1:3306"])
  })
})
