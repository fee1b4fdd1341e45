/**
 * Pure parsers from probe result rows to the `Instance` model, per flavour and version. They mirror what
 * orchestrator's `ReadTopologyInstanceBufferable` (`go/inst/instance_dao.go`) reads from each statement,
 * reading every column by name through old/new aliases so one parser serves SHOW SLAVE STATUS (MariaDB,
 * MySQL 5.7/8.0) and SHOW REPLICA STATUS (MySQL 8.0.22+/8.4).
 */
import { Data, Either } from "effect"
import * as Model from "../Instance.js"
import type { Instance } from "../Instance.js"
import { InstanceKey } from "../InstanceKey.js"
import * as Key from "../InstanceKey.js"
import type { OptionalFacts, StatementId } from "./ProbePlan.js"
import {
  bool,
  field,
  int,
  nameValueMap,
  nullableInt,
  type RawResult,
  type RawRow,
  type SqlValue,
  str,
  toBool,
  toInt,
  uint,
  valueText
} from "./RawRow.js"
import * as ServerVersion from "./ServerVersion.js"

/** A statement that the server refused (errno/SQLSTATE/message as the driver reported them). */
export interface StatementFailure {
  readonly _tag: "StatementFailure"
  readonly errno: number
  readonly sqlState: string
  readonly message: string
}

export const statementFailure = (errno: number, message: string, sqlState = "HY000"): StatementFailure => ({
  _tag: "StatementFailure",
  errno,
  sqlState,
  message
})

export type StatementOutcome = RawResult | StatementFailure

export const isFailure = (o: StatementOutcome | undefined): o is StatementFailure =>
  o !== undefined && !Array.isArray(o) && (o as StatementFailure)._tag === "StatementFailure"

/** What the rounds returned, by statement id; ids that were not asked are absent. */
export type ProbeResults = Partial<Record<StatementId, StatementOutcome>>

const rowsOf = (o: StatementOutcome | undefined): RawResult | undefined =>
  o === undefined || isFailure(o) ? undefined : o

/** The probe could not produce an Instance. `partialSuccess`: the global variables were read (orchestrator). */
export class ProbeParseError extends Data.TaggedError("ProbeParseError")<{
  readonly key: InstanceKey
  readonly statement: StatementId | "hostname"
  readonly message: string
  readonly partialSuccess: boolean
  readonly cause?: StatementFailure
}> {}

// ---- statement parsers --------------------------------------------------------------------------------

export interface Globals {
  readonly version: string
  readonly versionComment: string
  readonly hostname: string
  readonly reportHost: string
  readonly reportPort: number
  readonly serverId: number
  readonly readOnly: boolean
  readonly binlogFormat: string
  readonly binlogRowImage: string
  readonly logBin: boolean
}

/** `SELECT_GLOBALS`. Also accepts orchestrator's un-aliased `@@global.x` column names. */
export const parseGlobals = (row: RawRow): Globals => ({
  version: str(row, ["version", "@@global.version"]),
  versionComment: str(row, ["version_comment", "@@global.version_comment"]),
  hostname: str(row, ["hostname", "@@global.hostname"]),
  reportHost: str(row, ["report_host", "ifnull(@@global.report_host, '')"]),
  reportPort: uint(row, ["report_port", "@@global.report_port"]),
  serverId: uint(row, ["server_id", "@@global.server_id"]),
  readOnly: bool(row, ["read_only", "@@global.read_only"]),
  binlogFormat: str(row, ["binlog_format", "@@global.binlog_format"]),
  binlogRowImage: str(row, ["binlog_row_image", "@@global.binlog_row_image"]),
  logBin: bool(row, ["log_bin", "@@global.log_bin"])
})

/** The version read by the `globals` statement, to plan the next round; undefined if it did not succeed. */
export const versionOf = (results: ProbeResults): ServerVersion.ServerVersion | undefined => {
  const row = rowsOf(results.globals)?.[0]
  if (row === undefined) return undefined
  const g = parseGlobals(row)
  return ServerVersion.parse(g.version, g.versionComment)
}

/** `Uptime` from `SHOW GLOBAL STATUS LIKE 'Uptime'`; 0 when unknown (orchestrator tolerates the failure). */
export const parseUptime = (rows: RawResult): number => Math.max(0, toInt(nameValueMap(rows).get("uptime")) ?? 0)

export interface MysqlVariables {
  readonly gtidMode: string
  readonly serverUuid: string
  readonly executedGtidSet: string
  readonly gtidPurged: string
  readonly masterInfoOnTable: boolean
  readonly superReadOnly: boolean
  readonly logReplicationUpdates: boolean
}

/** `SELECT_MYSQL*_VARIABLES`. */
export const parseMysqlVariables = (row: RawRow): MysqlVariables => ({
  gtidMode: str(row, "gtid_mode"),
  serverUuid: str(row, "server_uuid"),
  executedGtidSet: str(row, "gtid_executed"),
  gtidPurged: str(row, "gtid_purged"),
  masterInfoOnTable: bool(row, "master_info_repository_on_table"),
  superReadOnly: bool(row, "super_read_only"),
  logReplicationUpdates: bool(row, ["log_replica_updates", "log_slave_updates"])
})

export interface MariaDbVariables {
  readonly gtid: Model.MariaDbGtid
  readonly logReplicationUpdates: boolean
}

/** `SELECT_MARIADB_VARIABLES`. */
export const parseMariaDbVariables = (row: RawRow): MariaDbVariables => ({
  gtid: {
    currentPos: str(row, "gtid_current_pos"),
    slavePos: str(row, "gtid_slave_pos"),
    binlogPos: str(row, "gtid_binlog_pos"),
    strictMode: bool(row, "gtid_strict_mode"),
    domainId: uint(row, "gtid_domain_id")
  },
  logReplicationUpdates: bool(row, ["log_replica_updates", "log_slave_updates"])
})

/** SHOW MASTER STATUS / SHOW BINARY LOG STATUS: `File`, `Position` (orchestrator reads only these). */
export const parseBinlogStatus = (rows: RawResult): Model.BinlogCoordinates => {
  const row = rows[0]
  if (row === undefined) return Model.emptyCoordinates("binary")
  return { logFile: str(row, "File"), logPos: uint(row, "Position"), type: "binary" }
}

/** Old (SHOW SLAVE STATUS, MariaDB) and new (SHOW REPLICA STATUS) spellings of each column (mysql8.md §1.1). */
const C = {
  ioState: ["Slave_IO_State", "Replica_IO_State"],
  host: ["Master_Host", "Source_Host"],
  user: ["Master_User", "Source_User"],
  port: ["Master_Port", "Source_Port"],
  connectRetry: ["Connect_Retry"],
  masterLogFile: ["Master_Log_File", "Source_Log_File"],
  readPos: ["Read_Master_Log_Pos", "Read_Source_Log_Pos"],
  relayLogFile: ["Relay_Log_File"],
  relayLogPos: ["Relay_Log_Pos"],
  relayMasterLogFile: ["Relay_Master_Log_File", "Relay_Source_Log_File"],
  ioRunning: ["Slave_IO_Running", "Replica_IO_Running"],
  sqlRunning: ["Slave_SQL_Running", "Replica_SQL_Running"],
  execPos: ["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"],
  sslAllowed: ["Master_SSL_Allowed", "Source_SSL_Allowed"],
  secondsBehind: ["Seconds_Behind_Master", "Seconds_Behind_Source"],
  lastIoErrno: ["Last_IO_Errno"],
  lastIoError: ["Last_IO_Error"],
  lastSqlErrno: ["Last_SQL_Errno"],
  lastSqlError: ["Last_SQL_Error"],
  ignoreServerIds: ["Replicate_Ignore_Server_Ids"],
  masterServerId: ["Master_Server_Id", "Source_Server_Id"],
  masterUuid: ["Master_UUID", "Source_UUID"],
  sqlDelay: ["SQL_Delay"],
  sqlRemainingDelay: ["SQL_Remaining_Delay"],
  sqlState: ["Slave_SQL_Running_State", "Replica_SQL_Running_State"],
  lastIoErrorTimestamp: ["Last_IO_Error_Timestamp"],
  lastSqlErrorTimestamp: ["Last_SQL_Error_Timestamp"],
  retrieved: ["Retrieved_Gtid_Set"],
  executed: ["Executed_Gtid_Set"],
  autoPosition: ["Auto_Position"],
  rewriteDb: ["Replicate_Rewrite_DB"],
  channel: ["Channel_Name", "Channel_name", "Connection_name"],
  usingGtid: ["Using_Gtid"],
  gtidIoPos: ["Gtid_IO_Pos"]
} as const

/**
 * `Key.make` with the same checks but without the Schema class validating the fields a second time: a probe
 * builds several keys (master, replicas) and that validation was a visible share of its CPU.
 */
const makeKey = (hostname: string, port: number): Either.Either<InstanceKey, Key.InstanceKeyParseError> =>
  hostname.length > 0 && Number.isInteger(port) && port >= 1 && port <= 65535
    ? Either.right(new InstanceKey({ hostname, port }, true))
    : Key.make(hostname, port)

/** One row of SHOW SLAVE STATUS / SHOW REPLICA STATUS (any flavour, any version). */
export const parseReplicaStatus = (row: RawRow): Model.ReplicaStatus => {
  const host = str(row, C.host)
  const port = int(row, C.port)
  // Orchestrator builds the master key from Master_Host/Master_Port even when it is `_` or detached;
  // only an empty host or a port out of range has no key.
  const masterKey = Either.getOrNull(makeKey(host, port))
  const seconds = nullableInt(row, C.secondsBehind)
  const usingGtidValue = field(row, ...C.usingGtid)
  const masterUuidValue = field(row, ...C.masterUuid)
  return {
    channelName: str(row, C.channel),
    masterKey,
    masterUser: str(row, C.user),
    masterServerId: uint(row, C.masterServerId),
    masterUuid: masterUuidValue === undefined ? null : valueText(masterUuidValue),
    ioRunning: str(row, C.ioRunning),
    sqlRunning: str(row, C.sqlRunning),
    ioStateText: str(row, C.ioState),
    sqlStateText: str(row, C.sqlState),
    readBinlogCoordinates: { logFile: str(row, C.masterLogFile), logPos: uint(row, C.readPos), type: "binary" },
    execBinlogCoordinates: { logFile: str(row, C.relayMasterLogFile), logPos: uint(row, C.execPos), type: "binary" },
    relaylogCoordinates: { logFile: str(row, C.relayLogFile), logPos: uint(row, C.relayLogPos), type: "relay" },
    lastIoErrno: uint(row, C.lastIoErrno),
    lastIoError: str(row, C.lastIoError),
    lastSqlErrno: uint(row, C.lastSqlErrno),
    lastSqlError: str(row, C.lastSqlError),
    lastIoErrorTimestamp: str(row, C.lastIoErrorTimestamp),
    lastSqlErrorTimestamp: str(row, C.lastSqlErrorTimestamp),
    // Orchestrator: "instance.SecondsBehindMaster < 0 [...], correcting to 0".
    secondsBehindMaster: seconds === null ? null : Math.max(0, seconds),
    sqlDelay: uint(row, C.sqlDelay),
    sqlRemainingDelay: ((n) => (n === null ? null : Math.max(0, n)))(nullableInt(row, C.sqlRemainingDelay)),
    sslAllowed: str(row, C.sslAllowed) === "Yes",
    autoPosition: int(row, C.autoPosition) === 1,
    retrievedGtidSet: str(row, C.retrieved),
    executedGtidSet: str(row, C.executed),
    usingGtid: usingGtidValue === undefined || usingGtidValue === null ? null : valueText(usingGtidValue),
    gtidIoPos: str(row, C.gtidIoPos),
    connectRetry: uint(row, C.connectRetry),
    filters: {
      doDb: str(row, "Replicate_Do_DB"),
      ignoreDb: str(row, "Replicate_Ignore_DB"),
      doTable: str(row, "Replicate_Do_Table"),
      ignoreTable: str(row, "Replicate_Ignore_Table"),
      wildDoTable: str(row, "Replicate_Wild_Do_Table"),
      wildIgnoreTable: str(row, "Replicate_Wild_Ignore_Table"),
      doDomainIds: str(row, "Replicate_Do_Domain_Ids"),
      ignoreDomainIds: str(row, "Replicate_Ignore_Domain_Ids"),
      ignoreServerIds: str(row, C.ignoreServerIds),
      rewriteDb: str(row, C.rewriteDb)
    }
  }
}

/**
 * The replication row to use: MySQL returns one row per channel; orchestrator scans them all and keeps the
 * last. Prefer the default channel (`''`), else the first row, so the choice is stable.
 */
export const pickReplicaRow = (rows: RawResult): RawRow | undefined =>
  rows.find((r) => str(r, C.channel) === "") ?? rows[0]

/**
 * Semi-sync from `SHOW GLOBAL VARIABLES/STATUS LIKE 'rpl_semi_sync_%'`. Orchestrator reads the
 * `master`/`slave` names; the `source`/`replica` names of MySQL 8.0.26+'s new plugins are read as well, as
 * Percona's fork does (mysql8.md §3.2).
 */
export const parseSemiSync = (variables: RawResult, status: RawResult): Model.SemiSync => {
  const v = nameValueMap(variables)
  const s = nameValueMap(status)
  const pick = (m: ReadonlyMap<string, SqlValue>, ...names: ReadonlyArray<string>): SqlValue | undefined => {
    for (const n of names) if (m.has(n)) return m.get(n)
    return undefined
  }
  const masterEnabled = pick(v, "rpl_semi_sync_master_enabled", "rpl_semi_sync_source_enabled")
  const replicaEnabled = pick(v, "rpl_semi_sync_slave_enabled", "rpl_semi_sync_replica_enabled")
  const naming = v.has("rpl_semi_sync_source_enabled") || v.has("rpl_semi_sync_replica_enabled")
    ? "source-replica"
    : v.has("rpl_semi_sync_master_enabled") || v.has("rpl_semi_sync_slave_enabled")
    ? "master-slave"
    : null
  const nonNegative = (x: SqlValue | undefined) => Math.max(0, toInt(x) ?? 0)
  return {
    available: masterEnabled !== undefined && replicaEnabled !== undefined,
    priority: 0,
    masterEnabled: toBool(masterEnabled),
    replicaEnabled: toBool(replicaEnabled),
    masterTimeoutMs: nonNegative(pick(v, "rpl_semi_sync_master_timeout", "rpl_semi_sync_source_timeout")),
    masterWaitForReplicaCount: nonNegative(
      pick(v, "rpl_semi_sync_master_wait_for_slave_count", "rpl_semi_sync_source_wait_for_replica_count")
    ),
    masterStatus: toBool(pick(s, "rpl_semi_sync_master_status", "rpl_semi_sync_source_status")),
    masterClients: nonNegative(pick(s, "rpl_semi_sync_master_clients", "rpl_semi_sync_source_clients")),
    replicaStatus: toBool(pick(s, "rpl_semi_sync_slave_status", "rpl_semi_sync_replica_status")),
    naming
  }
}

/**
 * SHOW SLAVE HOSTS / SHOW REPLICAS: `Host` and `Port` (report_host/report_port). Rows without a host or
 * with port 0 (report_port unset) are skipped; orchestrator reports them as an error and keeps the rest.
 */
export const parseReplicaHosts = (rows: RawResult): ReadonlyArray<InstanceKey> => {
  const out: Array<InstanceKey> = []
  for (const row of rows) {
    const key = makeKey(str(row, "Host"), int(row, "Port"))
    if (Either.isRight(key) && Key.isValid(key.right)) out.push(key.right)
  }
  return Key.sortedUnique(out)
}

/**
 * The process-list replicas (`slave_hostname`); orchestrator assumes each replica listens on the same port
 * as this instance (`InstanceKey{Hostname: cname, Port: instance.Key.Port}`).
 */
export const parseProcesslistReplicas = (rows: RawResult, port: number): ReadonlyArray<InstanceKey> => {
  const out: Array<InstanceKey> = []
  for (const row of rows) {
    const key = makeKey(str(row, "slave_hostname"), port)
    if (Either.isRight(key)) out.push(key.right)
  }
  return Key.sortedUnique(out)
}

/** `group_replication_group_name` from SHOW GLOBAL VARIABLES ("" when the plugin is not loaded). */
export const parseGroupName = (rows: RawResult): string =>
  valueText(nameValueMap(rows).get("group_replication_group_name"))

/**
 * Orchestrator's `PopulateGroupReplicationInformation`: this member's state/role from the row with its own
 * `server_uuid`, the PRIMARY's key, the member list. Multi-primary groups are not supported (orchestrator
 * stops reading at the first such row).
 */
export const parseGroupMembers = (rows: RawResult, serverUuid: string): Model.GroupReplication | null => {
  let name = ""
  let singlePrimary = false
  let memberState = ""
  let memberRole = ""
  let primaryKey: InstanceKey | null = null
  const members: Array<InstanceKey> = []
  for (const row of rows) {
    const single = bool(row, "single_primary_mode")
    if (!single) break
    const key = makeKey(str(row, "MEMBER_HOST"), int(row, "MEMBER_PORT"))
    if (Either.isLeft(key)) continue
    members.push(key.right)
    const role = str(row, "MEMBER_ROLE")
    if (role === "PRIMARY") primaryKey = key.right
    if (str(row, "MEMBER_ID") === serverUuid) {
      name = str(row, "group_name")
      singlePrimary = single
      memberRole = role
      memberState = str(row, "MEMBER_STATE")
    }
  }
  if (name === "") return null
  return { name, singlePrimary, memberState, memberRole, members: Key.sortedUnique(members), primaryKey }
}

/** `SELECT_REPLICATION_CREDENTIALS`. */
export const parseCredentials = (rows: RawResult): boolean => {
  const row = rows[0]
  return row === undefined ? false : bool(row, "credentials_available")
}

/** The facts the optional round depends on. */
export const optionalFacts = (results: ProbeResults): OptionalFacts => {
  const replicaRows = rowsOf(results.replicaStatus)
  const vars = rowsOf(results.flavourVariables)?.[0]
  return {
    isReplica: replicaRows !== undefined && replicaRows.length > 0,
    masterInfoOnTable: vars === undefined ? false : bool(vars, "master_info_repository_on_table"),
    groupName: parseGroupName(rowsOf(results.groupReplicationName) ?? [])
  }
}

// ---- assembly -------------------------------------------------------------------------------------------

/**
 * Orchestrator `MySQLHostnameResolveMethod`: "none" keeps the probed hostname, "default"/"hostname"/
 * "@@hostname" use `@@hostname`, "report_host"/"@@report_host" use `@@report_host` (error when empty).
 * Anything else behaves like "none".
 */
export type HostnameResolve = "none" | "hostname" | "report_host"

export const hostnameResolveFromConfig = (method: string): HostnameResolve => {
  switch (method.toLowerCase()) {
    case "default":
    case "hostname":
    case "@@hostname":
      return "hostname"
    case "report_host":
    case "@@report_host":
      return "report_host"
    default:
      return "none"
  }
}

export interface ProbeContext {
  /** The key the probe connected to. */
  readonly key: InstanceKey
  /** When the probe finished, epoch ms (written to last_checked/last_seen/last_attempted_check). */
  readonly now: number
  /** Wall time the probe took (orchestrator `LastDiscoveryLatency`). */
  readonly latencyMs: number
  readonly hostnameResolve: HostnameResolve
  /** Orchestrator `ReplicationCredentialsQuery` is configured: credentials count as available. */
  readonly hasReplicationCredentialsQuery?: boolean
  /**
   * The stored instance from the previous probe, if any: the backend-derived fields (cluster name, alias,
   * depth, co-master, ancestry, DC/region/env, pseudo-GTID, semi-sync priority, errant GTIDs) are carried
   * over until the backend recomputes them.
   */
  readonly previous?: Instance
}

const fail = (
  ctx: ProbeContext,
  statement: StatementId | "hostname",
  message: string,
  partialSuccess: boolean,
  cause?: StatementFailure
): Either.Either<Instance, ProbeParseError> =>
  Either.left(
    new ProbeParseError(
      cause === undefined
        ? { key: ctx.key, statement, message, partialSuccess }
        : { key: ctx.key, statement, message, partialSuccess, cause }
    )
  )

/**
 * Builds the Instance from all rounds' results. Fails (like orchestrator's `goto Cleanup`) when the
 * global variables or the replica status could not be read, or the resolved hostname is empty; every
 * other statement may be missing or failed, leaving its fields at their defaults.
 */
export const assemble = (results: ProbeResults, ctx: ProbeContext): Either.Either<Instance, ProbeParseError> => {
  const globalsOutcome = results.globals
  if (globalsOutcome === undefined || isFailure(globalsOutcome)) {
    const cause = isFailure(globalsOutcome) ? globalsOutcome : undefined
    return fail(ctx, "globals", "cannot read global variables", false, cause)
  }
  const globalsRow = globalsOutcome[0]
  if (globalsRow === undefined) return fail(ctx, "globals", "global variables query returned no row", false)
  const g = parseGlobals(globalsRow)
  const version = ServerVersion.parse(g.version, g.versionComment)

  const replicaOutcome = results.replicaStatus
  if (replicaOutcome === undefined || isFailure(replicaOutcome)) {
    const cause = isFailure(replicaOutcome) ? replicaOutcome : undefined
    return fail(ctx, "replicaStatus", "cannot read replica status", true, cause)
  }

  let hostname = ctx.key.hostname
  if (ctx.hostnameResolve === "hostname") hostname = g.hostname
  if (ctx.hostnameResolve === "report_host") {
    if (g.reportHost === "") {
      const message = `MySQLHostnameResolveMethod is report_host but ${ctx.key} has an empty @@report_host`
      return fail(ctx, "hostname", message, true)
    }
    hostname = g.reportHost
  }
  const key = (hostname === ctx.key.hostname ? Either.right(ctx.key) : makeKey(hostname, ctx.key.port))
  if (Either.isLeft(key)) return fail(ctx, "hostname", `ReadTopologyInstance: empty hostname (${ctx.key})`, true)

  const prev = ctx.previous
  const base = prev !== undefined && Key.equals(prev.key, key.right) ? prev : Model.empty(key.right)

  const varsRow = rowsOf(results.flavourVariables)?.[0]
  const mysqlVars = version.family === "mysql" && varsRow !== undefined ? parseMysqlVariables(varsRow) : undefined
  const mariaVars = version.family === "mariadb" && varsRow !== undefined ? parseMariaDbVariables(varsRow) : undefined

  const replicaRow = pickReplicaRow(replicaOutcome)
  const replication = replicaRow === undefined ? null : parseReplicaStatus(replicaRow)

  const hostsRows = rowsOf(results.replicaHosts)
  const fromHosts = hostsRows === undefined ? [] : parseReplicaHosts(hostsRows)
  // A server never replicates from itself: with process-list discovery on a shared address (replicas on
  // the same host as their master, e.g. loopback) every replica maps to `host:<this port>`, i.e. to itself.
  const replicas = (fromHosts.length > 0
    ? fromHosts
    : parseProcesslistReplicas(rowsOf(results.processlistReplicas) ?? [], key.right.port))
    .filter((r) => !Key.equals(r, key.right))

  const semiSync = parseSemiSync(rowsOf(results.semiSyncVariables) ?? [], rowsOf(results.semiSyncStatus) ?? [])
  const serverUuid = mysqlVars?.serverUuid ?? ""
  const groupRows = rowsOf(results.groupMembers)
  const group = groupRows === undefined ? null : parseGroupMembers(groupRows, serverUuid)
  const credentialsRows = rowsOf(results.replicationCredentials)

  const instance: Instance = {
    ...base,
    key: key.right,
    uptime: parseUptime(rowsOf(results.uptime) ?? []),
    serverId: g.serverId,
    serverUuid,
    version: g.version,
    versionComment: g.versionComment,
    flavor: version.flavor,
    mysqlHostname: g.hostname,
    reportHost: g.reportHost,
    reportPort: g.reportPort,
    readOnly: g.readOnly,
    superReadOnly: mysqlVars?.superReadOnly ?? false,
    binlogFormat: g.binlogFormat,
    binlogRowImage: g.binlogRowImage,
    logBinEnabled: g.logBin,
    logReplicationUpdatesEnabled: mysqlVars?.logReplicationUpdates ?? mariaVars?.logReplicationUpdates ?? false,
    selfBinlogCoordinates: g.logBin
      ? parseBinlogStatus(rowsOf(results.binlogStatus) ?? [])
      : Model.emptyCoordinates("binary"),
    replication,
    gtidMode: mysqlVars?.gtidMode ?? "",
    executedGtidSet: mysqlVars?.executedGtidSet ?? "",
    gtidPurged: mysqlVars?.gtidPurged ?? "",
    mariadbGtid: mariaVars?.gtid ?? null,
    masterInfoOnTable: mysqlVars?.masterInfoOnTable ?? false,
    // Orchestrator: "until told otherwise" the lag is Seconds_Behind_Master (ReplicationLagQuery overrides).
    replicationLagSeconds: replication?.secondsBehindMaster ?? null,
    replicas,
    replicationCredentialsAvailable: ctx.hasReplicationCredentialsQuery === true ||
      (credentialsRows !== undefined && parseCredentials(credentialsRows)),
    semiSync: { ...semiSync, priority: base.semiSync.priority },
    group,
    lastCheckedAt: ctx.now,
    lastSeenAt: ctx.now,
    lastAttemptedCheckAt: ctx.now,
    lastCheckValid: true,
    lastCheckPartialSuccess: true,
    lastDiscoveryLatencyMs: ctx.latencyMs
  }
  return Either.right(instance)
}

/**
 * orchestrator's `ReplicationLagQuery` (e.g. a pt-heartbeat read), run on every probed server: the first column
 * of the first row, in seconds. NULL = unknown (null); a negative value counts as 0. An error, no row, or a value
 * that is not a number leaves `fallback` (Seconds_Behind_Master), as orchestrator does when its scan fails. One
 * difference: a fractional value is rounded down here, where orchestrator's integer scan fails and falls back.
 */
export const lagFromQuery = (outcome: StatementOutcome | undefined, fallback: number | null): number | null => {
  const rows = rowsOf(outcome)
  if (rows === undefined) return fallback
  const row = rows[0]
  if (row === undefined) return fallback
  const v = Object.values(row)[0]
  if (v === null || v === undefined) return null
  const n = typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : Number(v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v))
  if (!Number.isFinite(n) || (typeof v === "string" && v.trim() === "")) return fallback
  return Math.max(0, Math.floor(n))
}
