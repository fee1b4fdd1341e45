/**
 * The domain model of one probed MySQL/MariaDB server: everything orchestrator's `Instance`
 * (`go/inst/instance.go`) carries that a probe or the backend can know, as an `effect/Schema` struct so
 * it can be stored as JSON (`Schema.encode(Instance)`) and read back validated.
 *
 * Differences in shape from orchestrator, all deliberate:
 * - Replica state is one nullable `replication` struct: `null` means SHOW SLAVE/REPLICA STATUS returned
 *   no row, which orchestrator encodes as both thread states `-1` (`ReplicationThreadStateNoThread`).
 * - Values orchestrator derives (`SupportsOracleGTID`, `UsingMariaDBGTID`, `IsDetached`, `Problems`,
 *   `IsUpToDate`...) are functions below / in `InstanceJson`, not stored fields, so they cannot go stale.
 * - Timestamps are epoch milliseconds; the JSON encoder renders orchestrator's strings.
 * - The raw values orchestrator folds away are kept (`ioRunning` "Connecting", error numbers, state texts,
 *   MariaDB GTID positions) because failure analysis and recovery need them.
 */
import { Schema } from "effect"
import { InstanceKey } from "./InstanceKey.js"
import * as Key from "./InstanceKey.js"

const Count = Schema.NonNegativeInt

/** Orchestrator `BinlogType`: `BinaryLog` (0) or `RelayLog` (1) (`go/inst/binlog.go`). */
export const BinlogType = Schema.Literal("binary", "relay")
export type BinlogType = typeof BinlogType.Type

/** Orchestrator `BinlogCoordinates{LogFile, LogPos, Type}`. */
export const BinlogCoordinates = Schema.Struct({
  logFile: Schema.String,
  logPos: Count,
  type: BinlogType
})
export type BinlogCoordinates = typeof BinlogCoordinates.Type

export const emptyCoordinates = (type: BinlogType = "binary"): BinlogCoordinates => ({ logFile: "", logPos: 0, type })

/**
 * Orchestrator `ReplicationThreadState` (`go/inst/replication_thread_state.go`): -1 no thread (not a
 * replica), 0 stopped ("No"), 1 running ("Yes"), 2 other (e.g. "Connecting").
 */
export const ThreadState = Schema.Literal("none", "stopped", "running", "other")
export type ThreadState = typeof ThreadState.Type

/** Orchestrator `ReplicationThreadStateFromStatus`: "No" → stopped, "Yes" → running, anything else → other. */
export const threadStateFromStatus = (status: string): ThreadState =>
  status === "No" ? "stopped" : status === "Yes" ? "running" : "other"

/** Orchestrator `FlavorName` values (`applyFlavorName`). */
export const Flavor = Schema.Literal("MySQL", "MariaDB", "Percona", "MaxScale", "unknown")
export type Flavor = typeof Flavor.Type

/** Orchestrator `CandidatePromotionRule` values (`go/inst/candidate_database_instance.go`). */
export const PromotionRule = Schema.Literal("must", "prefer", "neutral", "prefer_not", "must_not")
export type PromotionRule = typeof PromotionRule.Type

/** The `Replicate_*` filter columns of SHOW SLAVE/REPLICA STATUS (plus MariaDB's domain-id filters). */
export const ReplicationFilters = Schema.Struct({
  doDb: Schema.String,
  ignoreDb: Schema.String,
  doTable: Schema.String,
  ignoreTable: Schema.String,
  wildDoTable: Schema.String,
  wildIgnoreTable: Schema.String,
  /** MariaDB `Replicate_Do_Domain_Ids` / `Replicate_Ignore_Domain_Ids`; "" on MySQL. */
  doDomainIds: Schema.String,
  ignoreDomainIds: Schema.String,
  ignoreServerIds: Schema.String,
  rewriteDb: Schema.String
})
export type ReplicationFilters = typeof ReplicationFilters.Type

/** One row of SHOW SLAVE STATUS (MariaDB, MySQL < 8.0.22) or SHOW REPLICA STATUS (MySQL 8.0.22+). */
export const ReplicaStatus = Schema.Struct({
  /** MySQL `Channel_Name` ("" = default channel); "" on MariaDB (default connection). */
  channelName: Schema.String,
  /** `Master_Host`/`Source_Host` + port; null when the host is empty. `_` after a detach is kept. */
  masterKey: Schema.NullOr(InstanceKey),
  masterUser: Schema.String,
  masterServerId: Count,
  /** `Master_UUID`/`Source_UUID`; null when the server has no such column (MariaDB). */
  masterUuid: Schema.NullOr(Schema.String),
  /** Raw `Slave_IO_Running`/`Replica_IO_Running`: "Yes", "No", "Connecting". */
  ioRunning: Schema.String,
  /** Raw `Slave_SQL_Running`/`Replica_SQL_Running`: "Yes", "No". */
  sqlRunning: Schema.String,
  /** `Slave_IO_State` / `Replica_IO_State` stage text. */
  ioStateText: Schema.String,
  /** `Slave_SQL_Running_State` / `Replica_SQL_Running_State` stage text. */
  sqlStateText: Schema.String,
  /** (`Master_Log_File`, `Read_Master_Log_Pos`): what the IO thread has read from the master. */
  readBinlogCoordinates: BinlogCoordinates,
  /** (`Relay_Master_Log_File`, `Exec_Master_Log_Pos`): what the SQL thread has executed. */
  execBinlogCoordinates: BinlogCoordinates,
  /** (`Relay_Log_File`, `Relay_Log_Pos`), type relay. */
  relaylogCoordinates: BinlogCoordinates,
  lastIoErrno: Count,
  lastIoError: Schema.String,
  lastSqlErrno: Count,
  lastSqlError: Schema.String,
  /** MySQL `Last_IO_Error_Timestamp` (`YYMMDD hh:mm:ss`), "" when absent. */
  lastIoErrorTimestamp: Schema.String,
  lastSqlErrorTimestamp: Schema.String,
  /** `Seconds_Behind_Master`/`_Source`, null when NULL; negative values clamped to 0 as orchestrator does. */
  secondsBehindMaster: Schema.NullOr(Count),
  sqlDelay: Count,
  sqlRemainingDelay: Schema.NullOr(Count),
  /** `Master_SSL_Allowed = 'Yes'` (orchestrator `AllowTLS`). */
  sslAllowed: Schema.Boolean,
  /** MySQL `Auto_Position = 1` (orchestrator `UsingOracleGTID`); false on MariaDB. */
  autoPosition: Schema.Boolean,
  /** MySQL `Retrieved_Gtid_Set` / `Executed_Gtid_Set` columns; "" on MariaDB. */
  retrievedGtidSet: Schema.String,
  executedGtidSet: Schema.String,
  /** MariaDB `Using_Gtid` ("No", "Slave_Pos", "Current_Pos"); null when the column is absent (MySQL). */
  usingGtid: Schema.NullOr(Schema.String),
  /** MariaDB `Gtid_IO_Pos` (last GTID received); "" on MySQL. */
  gtidIoPos: Schema.String,
  connectRetry: Count,
  filters: ReplicationFilters
})
export type ReplicaStatus = typeof ReplicaStatus.Type

/** MariaDB's GTID state (mariadb.md §3): `domain-server_id-seq_no` lists, comma separated per domain. */
export const MariaDbGtid = Schema.Struct({
  currentPos: Schema.String,
  slavePos: Schema.String,
  binlogPos: Schema.String,
  strictMode: Schema.Boolean,
  domainId: Count
})
export type MariaDbGtid = typeof MariaDbGtid.Type

/**
 * Orchestrator's nine semi-sync fields. `available` = both the master and the replica plugin variables
 * exist. `masterWaitForReplicaCount` is 0 where the variable does not exist (MariaDB), as in orchestrator.
 */
export const SemiSync = Schema.Struct({
  available: Schema.Boolean,
  /** From `DetectSemiSyncEnforcedQuery` (0 = async replica); 0 when not configured. */
  priority: Count,
  masterEnabled: Schema.Boolean,
  replicaEnabled: Schema.Boolean,
  masterTimeoutMs: Count,
  masterWaitForReplicaCount: Count,
  masterStatus: Schema.Boolean,
  masterClients: Count,
  replicaStatus: Schema.Boolean,
  /**
   * Which variable names the server exposes: `master`/`slave` (MariaDB built-in, MySQL old plugins) or
   * `source`/`replica` (MySQL 8.0.26+ new plugins), needed to issue `SET GLOBAL` later; null when none.
   */
  naming: Schema.NullOr(Schema.Literal("master-slave", "source-replica"))
})
export type SemiSync = typeof SemiSync.Type

export const emptySemiSync: SemiSync = {
  available: false,
  priority: 0,
  masterEnabled: false,
  replicaEnabled: false,
  masterTimeoutMs: 0,
  masterWaitForReplicaCount: 0,
  masterStatus: false,
  masterClients: 0,
  replicaStatus: false,
  naming: null
}

/** Oracle MySQL group replication (orchestrator's `ReplicationGroup*` fields). */
export const GroupReplication = Schema.Struct({
  name: Schema.String,
  singlePrimary: Schema.Boolean,
  memberState: Schema.String,
  memberRole: Schema.String,
  members: Schema.Array(InstanceKey),
  primaryKey: Schema.NullOr(InstanceKey)
})
export type GroupReplication = typeof GroupReplication.Type

const EpochMillis = Schema.NullOr(Schema.Number)

export const Instance = Schema.Struct({
  key: InstanceKey,
  instanceAlias: Schema.String,
  /** `Uptime` status, seconds. */
  uptime: Count,
  serverId: Count,
  /** `@@server_uuid`; "" on MariaDB (no such variable) as orchestrator leaves it. */
  serverUuid: Schema.String,
  version: Schema.String,
  versionComment: Schema.String,
  flavor: Flavor,
  /** `@@hostname`, `@@report_host`, `@@report_port` as read (hostname resolution chooses among them). */
  mysqlHostname: Schema.String,
  reportHost: Schema.String,
  reportPort: Count,
  readOnly: Schema.Boolean,
  /** MySQL >= 5.7.8 `@@super_read_only`; false elsewhere. */
  superReadOnly: Schema.Boolean,
  binlogFormat: Schema.String,
  binlogRowImage: Schema.String,
  logBinEnabled: Schema.Boolean,
  /** `log_slave_updates` / `log_replica_updates` (orchestrator `LogReplicationUpdatesEnabled`). */
  logReplicationUpdatesEnabled: Schema.Boolean,
  /** SHOW MASTER STATUS / SHOW BINARY LOG STATUS (`File`, `Position`); empty when log_bin is off. */
  selfBinlogCoordinates: BinlogCoordinates,
  replication: Schema.NullOr(ReplicaStatus),
  /** `@@gtid_mode` ("" on MariaDB and MySQL < 5.6). */
  gtidMode: Schema.String,
  /** `@@gtid_executed` (MySQL; orchestrator leaves it "" on MariaDB). */
  executedGtidSet: Schema.String,
  gtidPurged: Schema.String,
  /** Errant GTIDs, computed after the probe against the master's set; "" until then. */
  gtidErrant: Schema.String,
  mariadbGtid: Schema.NullOr(MariaDbGtid),
  /** `@@master_info_repository = 'TABLE'` (MySQL), needed to decide whether to read credentials. */
  masterInfoOnTable: Schema.Boolean,
  usingPseudoGtid: Schema.Boolean,
  /** Replication lag: `ReplicationLagQuery` if configured, else `Seconds_Behind_Master`. */
  replicationLagSeconds: Schema.NullOr(Count),
  /** Replicas found by SHOW SLAVE HOSTS / SHOW REPLICAS or the process list, sorted, no duplicates. */
  replicas: Schema.Array(InstanceKey),
  replicationCredentialsAvailable: Schema.Boolean,
  semiSync: SemiSync,
  group: Schema.NullOr(GroupReplication),
  // ---- set from the backend (orchestrator `ReadInstanceClusterAttributes` and config patterns) ----
  clusterName: Schema.String,
  suggestedClusterAlias: Schema.String,
  dataCenter: Schema.String,
  region: Schema.String,
  physicalEnvironment: Schema.String,
  replicationDepth: Count,
  isCoMaster: Schema.Boolean,
  ancestryUuid: Schema.String,
  unresolvedHostname: Schema.String,
  countMySQLSnapshots: Count,
  // ---- check bookkeeping (database_instance last_checked / last_seen / last_attempted_check) ----
  lastCheckedAt: EpochMillis,
  lastSeenAt: EpochMillis,
  lastAttemptedCheckAt: EpochMillis,
  /** The last check read the server (orchestrator `is_last_check_valid` = last_checked <= last_seen). */
  lastCheckValid: Schema.Boolean,
  /** The last check got at least the global variables (orchestrator `last_check_partial_success`). */
  lastCheckPartialSuccess: Schema.Boolean,
  lastDiscoveryLatencyMs: Schema.Number
})
export type Instance = typeof Instance.Type

/** Encoded (JSON-ready) form, for the backend. */
export type InstanceEncoded = typeof Instance.Encoded

/** An instance with only its key known: the defaults orchestrator's `NewInstance()` has. */
export const empty = (key: InstanceKey): Instance => ({
  key,
  instanceAlias: "",
  uptime: 0,
  serverId: 0,
  serverUuid: "",
  version: "",
  versionComment: "",
  flavor: "unknown",
  mysqlHostname: "",
  reportHost: "",
  reportPort: 0,
  readOnly: false,
  superReadOnly: false,
  binlogFormat: "",
  binlogRowImage: "",
  logBinEnabled: false,
  logReplicationUpdatesEnabled: false,
  selfBinlogCoordinates: emptyCoordinates(),
  replication: null,
  gtidMode: "",
  executedGtidSet: "",
  gtidPurged: "",
  gtidErrant: "",
  mariadbGtid: null,
  masterInfoOnTable: false,
  usingPseudoGtid: false,
  replicationLagSeconds: null,
  replicas: [],
  replicationCredentialsAvailable: false,
  semiSync: emptySemiSync,
  group: null,
  clusterName: Key.format(key),
  suggestedClusterAlias: "",
  dataCenter: "",
  region: "",
  physicalEnvironment: "",
  replicationDepth: 0,
  isCoMaster: false,
  ancestryUuid: "",
  unresolvedHostname: "",
  countMySQLSnapshots: 0,
  lastCheckedAt: null,
  lastSeenAt: null,
  lastAttemptedCheckAt: null,
  lastCheckValid: false,
  lastCheckPartialSuccess: false,
  lastDiscoveryLatencyMs: 0
})

// ---- accessors (orchestrator's Instance methods; the Analysis works with these) ------------------------

/** The master key, or null (orchestrator encodes "no master" as `{"Hostname":"","Port":0}`). */
export const masterKey = (i: Instance): InstanceKey | null => i.replication?.masterKey ?? null

export const sqlThreadState = (i: Instance): ThreadState =>
  i.replication === null ? "none" : threadStateFromStatus(i.replication.sqlRunning)

export const ioThreadState = (i: Instance): ThreadState =>
  i.replication === null ? "none" : threadStateFromStatus(i.replication.ioRunning)

/** Orchestrator `UsingOracleGTID`: `Auto_Position = 1`. */
export const usingOracleGtid = (i: Instance): boolean => i.replication?.autoPosition ?? false

/** Orchestrator `UsingMariaDBGTID`: `Using_Gtid != 'No'` (absent column reads as "No"). */
export const usingMariaDbGtid = (i: Instance): boolean => {
  const u = i.replication?.usingGtid ?? null
  return u !== null && u !== "No"
}

/** Orchestrator `UsingGTID`. */
export const usingGtid = (i: Instance): boolean => usingOracleGtid(i) || usingMariaDbGtid(i)

/** Orchestrator `SupportsOracleGTID`: `gtid_mode` set and not OFF. */
export const supportsOracleGtid = (i: Instance): boolean => i.gtidMode !== "" && i.gtidMode !== "OFF"

/**
 * Orchestrator `IsReplica()`: a master host that is not empty or `_`, a non-zero port, and either a read
 * binlog file or GTID replication.
 */
export const isReplica = (i: Instance): boolean => {
  const r = i.replication
  if (r === null || r.masterKey === null) return false
  if (r.masterKey.hostname === "_") return false
  return r.readBinlogCoordinates.logFile !== "" || usingGtid(i)
}

export const isReplicationGroupMember = (i: Instance): boolean => i.group !== null && i.group.name !== ""

/** Orchestrator `IsMaster()`: not a replica, and (if in a replication group) its PRIMARY. */
export const isMaster = (i: Instance): boolean => {
  if (isReplica(i)) return false
  if (!isReplicationGroupMember(i)) return true
  return i.group?.memberRole === "PRIMARY"
}

/** Orchestrator `ReplicaRunning()`: a replica with both threads running. */
export const replicaRunning = (i: Instance): boolean =>
  isReplica(i) && sqlThreadState(i) === "running" && ioThreadState(i) === "running"

/** Orchestrator `ReplicationThreadsStopped()` (false for non-replicas: their state is "none"). */
export const replicationThreadsStopped = (i: Instance): boolean =>
  sqlThreadState(i) === "stopped" && ioThreadState(i) === "stopped"

/** Orchestrator `ReplicationThreadsExist()`. */
export const replicationThreadsExist = (i: Instance): boolean =>
  sqlThreadState(i) !== "none" && ioThreadState(i) !== "none"

/** Orchestrator `SQLThreadUpToDate()`: executed up to what was read. */
export const sqlThreadUpToDate = (i: Instance): boolean => {
  const r = i.replication
  if (r === null) return true
  return r.readBinlogCoordinates.logFile === r.execBinlogCoordinates.logFile &&
    r.readBinlogCoordinates.logPos === r.execBinlogCoordinates.logPos
}

const detachedCoordinatesRe = /\/\/([^/:]+):(\d+)/

/** Orchestrator `IsDetached`: the exec coordinates carry a `//file:pos` detach marker. */
export const isDetached = (i: Instance): boolean =>
  i.replication !== null && detachedCoordinatesRe.test(i.replication.execBinlogCoordinates.logFile)

/** Orchestrator `IsDetachedMaster`: the master hostname starts with `//`. */
export const isDetachedMaster = (i: Instance): boolean => {
  const m = masterKey(i)
  return m !== null && Key.isDetached(m)
}

/** Orchestrator `HasReplicationFilters`: any of the six `Replicate_*` database/table filters is set. */
export const hasReplicationFilters = (i: Instance): boolean => {
  const f = i.replication?.filters
  if (f === undefined) return false
  return f.doDb !== "" || f.ignoreDb !== "" || f.doTable !== "" || f.ignoreTable !== "" || f.wildDoTable !== "" ||
    f.wildIgnoreTable !== ""
}

/** Orchestrator `HasReplicationCredentials`: `Master_User` is set. */
export const hasReplicationCredentials = (i: Instance): boolean => (i.replication?.masterUser ?? "") !== ""

/** Seconds behind master as read, or null. */
export const secondsBehindMaster = (i: Instance): number | null => i.replication?.secondsBehindMaster ?? null

/** SQL_Delay seconds (0 for non-replicas). */
export const sqlDelay = (i: Instance): number => i.replication?.sqlDelay ?? 0

/** Replication lag (ReplicationLagQuery or Seconds_Behind_Master), null when unknown. */
export const lagSeconds = (i: Instance): number | null => i.replicationLagSeconds

/**
 * Orchestrator's `failing to connect to master` test (analysis_dao.go, with Percona's 8.0.33 fix, mysql8.md
 * §5.1): IO thread not running, SQL thread running, and an IO error about connecting to the master/source.
 */
export const isFailingToConnectToMaster = (i: Instance): boolean => {
  const r = i.replication
  if (r === null) return false
  return ioThreadState(i) !== "running" && sqlThreadState(i) === "running" &&
    /error (re)?connecting to (master|source)/i.test(r.lastIoError)
}

/** `same server`: orchestrator `Equals` compares keys only. */
export const sameInstance = (a: Instance, b: Instance): boolean => Key.equals(a.key, b.key)

/** Orchestrator `IsReplicaOf`. */
export const isReplicaOf = (replica: Instance, master: Instance): boolean => Key.equals(masterKey(replica), master.key)

/** `MajorVersionString()` from the stored version text (`8.0`, `10.11`). */
export const majorVersionString = (i: Instance): string => {
  const m = /^(?:5\.5\.5-)?(\d+)\.(\d+)/.exec(i.version)
  return m ? `${m[1]}.${m[2]}` : ""
}

/**
 * Orchestrator's `AncestryUUID` after a probe (end of `ReadTopologyInstanceBufferable`): the master's
 * ancestry (from the backend, `ReadInstanceClusterAttributes`) or, for a co-master, the master's UUID;
 * then this server's UUID and the replication group name; comma-joined, with leading/trailing commas
 * trimmed (Go `strings.Trim(s, ",")`, which keeps empty parts in the middle).
 */
export const ancestryUuid = (args: {
  readonly masterAncestryUuid: string
  readonly masterUuid: string
  readonly serverUuid: string
  readonly isCoMaster: boolean
  readonly groupName: string
}): string => {
  const head = args.isCoMaster ? args.masterUuid : args.masterAncestryUuid
  return `${head},${args.serverUuid},${args.groupName}`.replace(/^,+|,+$/g, "")
}
