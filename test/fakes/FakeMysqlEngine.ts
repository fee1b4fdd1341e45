/**
 * FAKE — a fake MySQL-protocol server standing in for Oracle MySQL 8.0/8.4, which cannot be installed on
 * these machines; answers are modelled on MySQL's documentation.
 *
 * This module is the fake's "SQL engine": the per-instance state and what each statement a probe sends
 * returns for it (column names, order and types per version, values, errors). It does no I/O; the wire
 * protocol is in FakeMysqlServer.ts. Sources are those of /work/shared/spec/mysql8.md (manual pages and
 * mysql-server source as cited there, e.g. §1.1 for the 60 SHOW REPLICA STATUS columns, §0/§5.3 for the
 * 8.4 syntax errors, §9 for what a fake must reproduce). The `mariadb-10.11` flavour (for scale tests)
 * follows rows captured from a real mariadbd 10.11.19 (test/topology/fixtures/mariadb-10.11.json).
 *
 * Deliberately small: only the statements of the probe plan (core/topology/probe) and a few harmless
 * extras (SELECT 1, SET, VERSION()) are understood; anything else gets ER_PARSE_ERROR (1064) like a real
 * server does for text it cannot parse, rather than hanging.
 */

export type FakeFlavor = "mysql-8.0" | "mysql-8.4" | "mariadb-10.11"

/** Replication on this instance (null in `FakeInstanceState.replication` = not a replica). */
export interface FakeReplication {
  readonly sourceHost: string
  readonly sourcePort: number
  readonly sourceUser: string
  readonly sourceServerId: number
  /** The source's server_uuid (MySQL); "" until first connect. */
  readonly sourceUuid: string
  /** `Yes` | `No` | `Connecting` (mysql8.md §1.1 row 11). */
  readonly ioRunning: "Yes" | "No" | "Connecting"
  readonly sqlRunning: "Yes" | "No"
  readonly sourceLogFile: string
  readonly readSourceLogPos: number
  readonly relayLogFile: string
  readonly relayLogPos: number
  readonly relaySourceLogFile: string
  readonly execSourceLogPos: number
  /** Applier delay when both threads run; the server reports NULL otherwise (mysql8.md §1.4). */
  readonly secondsBehindSource: number
  readonly lastIoErrno: number
  readonly lastIoError: string
  readonly lastSqlErrno: number
  readonly lastSqlError: string
  readonly sqlDelay: number
  /** MySQL `Auto_Position`. */
  readonly autoPosition: boolean
  readonly retrievedGtidSet: string
  /** MariaDB `Using_Gtid`: No / Slave_Pos / Current_Pos. */
  readonly usingGtid: "No" | "Slave_Pos" | "Current_Pos"
  /** MariaDB `Gtid_IO_Pos`. */
  readonly gtidIoPos: string
  readonly replicateDoDb: string
}

/** A replica connected to this instance (shown by SHOW REPLICAS and as a Binlog Dump thread). */
export interface FakeConnectedReplica {
  readonly host: string
  readonly port: number
  readonly serverId: number
  readonly uuid: string
  /** `Binlog Dump GTID` (auto-position) or `Binlog Dump` (mysql8.md §1.3). */
  readonly gtidDump: boolean
}

export type SemiSyncPlugins = "none" | "master-slave" | "source-replica"

export interface FakeSemiSync {
  /** Which plugins are loaded (MySQL, mysql8.md §3.2); MariaDB's built-in always has master/slave names. */
  readonly plugins: SemiSyncPlugins
  readonly sourceEnabled: boolean
  readonly replicaEnabled: boolean
  readonly timeoutMs: number
  readonly waitForReplicaCount: number
  readonly sourceStatus: boolean
  readonly sourceClients: number
  readonly replicaStatus: boolean
}

export interface FakeGroupMember {
  readonly uuid: string
  readonly host: string
  readonly port: number
  readonly state: string
  readonly role: string
}

export interface FakeGroup {
  readonly name: string
  readonly singlePrimary: boolean
  readonly members: ReadonlyArray<FakeGroupMember>
}

export interface FakeInstanceState {
  readonly flavor: FakeFlavor
  readonly version: string
  readonly versionComment: string
  readonly hostname: string
  readonly reportHost: string | null
  readonly reportPort: number
  readonly port: number
  readonly serverId: number
  readonly serverUuid: string
  readonly readOnly: boolean
  readonly superReadOnly: boolean
  readonly logBin: boolean
  readonly logReplicaUpdates: boolean
  readonly binlogFormat: string
  readonly binlogRowImage: string
  readonly binlogFile: string
  readonly binlogPosition: number
  readonly uptime: number
  /** MySQL GTID state. */
  readonly gtidMode: "OFF" | "OFF_PERMISSIVE" | "ON_PERMISSIVE" | "ON"
  readonly gtidExecuted: string
  readonly gtidPurged: string
  /** MariaDB GTID state. */
  readonly gtidCurrentPos: string
  readonly gtidSlavePos: string
  readonly gtidBinlogPos: string
  readonly semiSync: FakeSemiSync
  readonly replication: FakeReplication | null
  readonly replicas: ReadonlyArray<FakeConnectedReplica>
  /** Group replication (MySQL): null = plugin not loaded. */
  readonly group: FakeGroup | null
}

export const defaultVersion: Record<FakeFlavor, string> = {
  "mysql-8.0": "8.0.36",
  "mysql-8.4": "8.4.3",
  "mariadb-10.11": "10.11.19-MariaDB-log"
}

/** A deterministic server_uuid for a port (UUIDs print in lower case, mysql8.md §3.4). */
export const uuidFor = (port: number): string => {
  const hex = port.toString(16).padStart(12, "0")
  return `3e11fa47-71ca-11e1-9e33-${hex}`
}

/** A standalone master with binlog and GTIDs on, as a fresh 8.0/8.4/10.11 server with report_host set. */
export const defaultState = (
  flavor: FakeFlavor,
  port: number,
  overrides: Partial<FakeInstanceState> = {}
): FakeInstanceState => {
  const mysql = flavor !== "mariadb-10.11"
  const uuid = uuidFor(port)
  return {
    flavor,
    version: defaultVersion[flavor],
    versionComment: mysql ? "MySQL Community Server - GPL" : "Debian 12",
    hostname: "fakehost",
    reportHost: "127.0.0.1",
    reportPort: port,
    port,
    serverId: port,
    serverUuid: mysql ? uuid : "",
    readOnly: false,
    superReadOnly: false,
    logBin: true,
    logReplicaUpdates: true,
    binlogFormat: "ROW",
    binlogRowImage: "FULL",
    binlogFile: mysql ? "binlog.000003" : "mysql-bin.000001",
    binlogPosition: mysql ? 1557 : 1732,
    uptime: 3600,
    gtidMode: mysql ? "ON" : "OFF",
    gtidExecuted: mysql ? `${uuid}:1-25` : "",
    gtidPurged: "",
    gtidCurrentPos: mysql ? "" : `0-${port}-8`,
    gtidSlavePos: "",
    gtidBinlogPos: mysql ? "" : `0-${port}-8`,
    semiSync: {
      plugins: mysql ? "none" : "master-slave",
      sourceEnabled: false,
      replicaEnabled: false,
      timeoutMs: 10000,
      waitForReplicaCount: 1,
      sourceStatus: false,
      sourceClients: 0,
      replicaStatus: false
    },
    replication: null,
    replicas: [],
    group: null,
    ...overrides
  }
}

/** A healthy replication link from `source` (both threads running, caught up). */
export const healthyReplication = (source: FakeInstanceState, replicaPort: number): FakeReplication => ({
  sourceHost: source.reportHost ?? "127.0.0.1",
  sourcePort: source.port,
  sourceUser: "repl",
  sourceServerId: source.serverId,
  sourceUuid: source.serverUuid,
  ioRunning: "Yes",
  sqlRunning: "Yes",
  sourceLogFile: source.binlogFile,
  readSourceLogPos: source.binlogPosition,
  relayLogFile: `relay-bin-${replicaPort}.000002`,
  relayLogPos: 871,
  relaySourceLogFile: source.binlogFile,
  execSourceLogPos: source.binlogPosition,
  secondsBehindSource: 0,
  lastIoErrno: 0,
  lastIoError: "",
  lastSqlErrno: 0,
  lastSqlError: "",
  sqlDelay: 0,
  autoPosition: source.flavor !== "mariadb-10.11",
  retrievedGtidSet: source.flavor !== "mariadb-10.11" ? source.gtidExecuted : "",
  usingGtid: source.flavor === "mariadb-10.11" ? "Slave_Pos" : "No",
  gtidIoPos: source.flavor === "mariadb-10.11" ? source.gtidBinlogPos : "",
  replicateDoDb: ""
})

/**
 * The receiver cannot reach its source: `Connecting`, client error 2003 inside the connect-error text.
 * Wording per mysql8.md §5.1: 8.0.33+/8.4 `Error connecting to source '…'. This was attempt n/m, …`,
 * MariaDB as captured (`error connecting to master '…' - retry-time: 60  maximum-retries: 100000 …`).
 */
export const connectingReplication = (r: FakeReplication, flavor: FakeFlavor): FakeReplication => {
  const where = `${r.sourceUser}@${r.sourceHost}:${r.sourcePort}`
  const text = flavor === "mariadb-10.11"
    ? `error connecting to master '${where}' - retry-time: 60  maximum-retries: 100000  message: ` +
      `Can't connect to server on '${r.sourceHost}' (111 "Connection refused")`
    : `Error connecting to source '${where}'. This was attempt 1/${flavor === "mysql-8.0" ? 86400 : 10}, ` +
      `with a delay of 60 seconds between attempts. Message: Can't connect to MySQL server on ` +
      `'${r.sourceHost}:${r.sourcePort}' (111)`
  return { ...r, ioRunning: "Connecting", lastIoErrno: 2003, lastIoError: text }
}

// ---- results ---------------------------------------------------------------------------------------------

/** Column types of the text protocol: VAR_STRING 253, LONGLONG 8, LONG 3, NULL 6. */
export type ColumnType = "string" | "longlong" | "long" | "null"

export interface Column {
  readonly name: string
  readonly type: ColumnType
}

export type Value = string | number | null

export type Result =
  | {
    readonly _tag: "Rows"
    readonly columns: ReadonlyArray<Column>
    readonly rows: ReadonlyArray<ReadonlyArray<Value>>
  }
  | { readonly _tag: "Ok" }
  | { readonly _tag: "Error"; readonly errno: number; readonly sqlState: string; readonly message: string }

export type ErrorResult = Extract<Result, { readonly _tag: "Error" }>

const rowsResult = (columns: ReadonlyArray<Column>, rows: ReadonlyArray<ReadonlyArray<Value>>): Result => ({
  _tag: "Rows",
  columns,
  rows
})

const isMysql = (s: FakeInstanceState) => s.flavor !== "mariadb-10.11"

/** ER_PARSE_ERROR (1064, SQLSTATE 42000); MySQL and MariaDB name themselves in the text (captured on 10.11). */
export const parseError = (s: FakeInstanceState, near: string): ErrorResult => ({
  _tag: "Error",
  errno: 1064,
  sqlState: "42000",
  message: `You have an error in your SQL syntax; check the manual that corresponds to your ${
    isMysql(s) ? "MySQL" : "MariaDB"
  } server version for the right syntax to use near '${near.slice(0, 80)}' at line 1`
})

/** ER_UNKNOWN_SYSTEM_VARIABLE (1193, HY000), e.g. `SELECT @@gtid_mode` on MariaDB (mariadb.md §3). */
const unknownVariable = (name: string): ErrorResult => ({
  _tag: "Error",
  errno: 1193,
  sqlState: "HY000",
  message: `Unknown system variable '${name}'`
})

// ---- variables -------------------------------------------------------------------------------------------

const b = (x: boolean) => (x ? 1 : 0)
const onOff = (x: boolean) => (x ? "ON" : "OFF")

/** `SELECT @@x` values: numbers for integer/boolean variables (LONGLONG), strings otherwise. */
export const systemVariables = (s: FakeInstanceState): ReadonlyMap<string, Value> => {
  const v = new Map<string, Value>([
    ["version", s.version],
    ["version_comment", s.versionComment],
    ["hostname", s.hostname],
    ["report_host", s.reportHost],
    ["report_port", s.reportPort],
    ["port", s.port],
    ["server_id", s.serverId],
    ["read_only", b(s.readOnly)],
    ["log_bin", b(s.logBin)],
    ["log_slave_updates", b(s.logReplicaUpdates)],
    ["binlog_format", s.binlogFormat],
    ["binlog_row_image", s.binlogRowImage],
    ["slave_net_timeout", 60],
    ["autocommit", 1]
  ])
  if (isMysql(s)) {
    v.set("server_uuid", s.serverUuid)
    v.set("super_read_only", b(s.superReadOnly))
    v.set("gtid_mode", s.gtidMode)
    v.set("enforce_gtid_consistency", s.gtidMode === "ON" ? "ON" : "OFF")
    v.set("gtid_executed", s.gtidExecuted)
    v.set("gtid_purged", s.gtidPurged)
    // 8.0.26 renames (mysql8.md §3.1); the fake's 8.0 is 8.0.36 so both names exist.
    v.set("log_replica_updates", b(s.logReplicaUpdates))
    v.set("replica_net_timeout", 60)
    // Deprecated 8.0.23 and gone from later manuals (mysql8.md §3.3); the fake's 8.4 does not have it.
    if (s.flavor === "mysql-8.0") v.set("master_info_repository", "TABLE")
    if (s.group !== null) {
      v.set("group_replication_group_name", s.group.name)
      v.set("group_replication_single_primary_mode", b(s.group.singlePrimary))
    }
  } else {
    v.set("gtid_current_pos", s.gtidCurrentPos)
    v.set("gtid_slave_pos", s.gtidSlavePos)
    v.set("gtid_binlog_pos", s.gtidBinlogPos)
    v.set("gtid_binlog_state", s.gtidBinlogPos)
    v.set("gtid_strict_mode", 1)
    v.set("gtid_domain_id", 0)
  }
  return v
}

const booleanVariables = new Set([
  "read_only",
  "super_read_only",
  "log_bin",
  "log_slave_updates",
  "log_replica_updates",
  "autocommit"
])

/** SHOW VARIABLES (text values, ON/OFF for booleans), including the semi-sync plugin variables. */
const showVariables = (s: FakeInstanceState): ReadonlyMap<string, string> => {
  const out = new Map<string, string>()
  for (const [k, val] of systemVariables(s)) {
    if (val === null) out.set(k, "")
    else if (booleanVariables.has(k)) {
      out.set(k, onOff(val === 1))
    } else out.set(k, String(val))
  }
  const ss = s.semiSync
  const [src, rep, wait, noWait] = ss.plugins === "source-replica"
    ? ["source", "replica", "rpl_semi_sync_source_wait_for_replica_count", "rpl_semi_sync_source_wait_no_replica"]
    : ["master", "slave", "rpl_semi_sync_master_wait_for_slave_count", "rpl_semi_sync_master_wait_no_slave"]
  if (ss.plugins !== "none") {
    out.set(`rpl_semi_sync_${src}_enabled`, onOff(ss.sourceEnabled))
    out.set(`rpl_semi_sync_${src}_timeout`, String(ss.timeoutMs))
    out.set(`rpl_semi_sync_${src}_trace_level`, "32")
    // MariaDB has no wait_for_slave_count (mariadb.md §3: ERROR 1193).
    if (isMysql(s)) out.set(wait, String(ss.waitForReplicaCount))
    out.set(noWait, "ON")
    out.set(`rpl_semi_sync_${src}_wait_point`, isMysql(s) ? "AFTER_SYNC" : "AFTER_COMMIT")
    out.set(`rpl_semi_sync_${rep}_enabled`, onOff(ss.replicaEnabled))
    out.set(`rpl_semi_sync_${rep}_trace_level`, "32")
  }
  if (s.group !== null) out.set("group_replication_group_name", s.group.name)
  return out
}

const showStatus = (s: FakeInstanceState): ReadonlyMap<string, string> => {
  const out = new Map<string, string>([["Uptime", String(s.uptime)], ["Threads_connected", "1"]])
  const ss = s.semiSync
  if (ss.plugins !== "none") {
    const [src, rep] = ss.plugins === "source-replica" ? ["source", "replica"] : ["master", "slave"]
    out.set(`Rpl_semi_sync_${src}_clients`, String(ss.sourceClients))
    out.set(`Rpl_semi_sync_${src}_status`, onOff(ss.sourceStatus))
    out.set(`Rpl_semi_sync_${src}_yes_tx`, "0")
    out.set(`Rpl_semi_sync_${src}_no_tx`, "0")
    out.set(`Rpl_semi_sync_${rep}_status`, onOff(ss.replicaStatus))
  }
  return out
}

/** SQL LIKE with `%`, `_` and `\` escapes; case-insensitive as with the default collations. */
export const likeToRegExp = (pattern: string): RegExp => {
  let re = ""
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === "\\" && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    else if (c === "%") re += ".*"
    else if (c === "_") re += "."
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
  }
  return new RegExp(`^${re}$`, "i")
}

const nameValueRows = (m: ReadonlyMap<string, string>, like: string | undefined): Result => {
  const re = like === undefined ? undefined : likeToRegExp(like)
  const names = [...m.keys()]
    .filter((k) => re === undefined || re.test(k))
    .sort((a, c) => (a.toLowerCase() < c.toLowerCase() ? -1 : 1))
  return rowsResult(
    [{ name: "Variable_name", type: "string" }, { name: "Value", type: "string" }],
    names.map((n) => [n, m.get(n)!])
  )
}

// ---- SHOW SLAVE/REPLICA STATUS ---------------------------------------------------------------------------

type Getter = (r: FakeReplication, s: FakeInstanceState) => Value

interface StatusColumn {
  readonly old: string
  readonly new: string
  readonly type: ColumnType
  readonly get: Getter
}

const col = (old: string, neu: string, type: ColumnType, get: Getter): StatusColumn => ({ old, new: neu, type, get })
const same = (name: string, type: ColumnType, get: Getter): StatusColumn => col(name, name, type, get)
const empty: Getter = () => ""

/** Applier delay rules (mysql8.md §1.4): NULL unless the applier runs and the receiver is connected. */
const secondsBehind: Getter = (r) => (r.sqlRunning !== "Yes" || r.ioRunning !== "Yes" ? null : r.secondsBehindSource)

/** Stage texts after the 8.0.26 rename (mysql8.md §1.3), or MariaDB's (captured). */
const ioStateText: Getter = (r, s) => {
  const mysql = isMysql(s)
  if (r.ioRunning === "Yes") return mysql ? "Waiting for source to send event" : "Waiting for master to send event"
  if (r.ioRunning === "Connecting") return mysql ? "Connecting to source" : "Connecting to master"
  return ""
}
const sqlStateText: Getter = (r, s) =>
  r.sqlRunning !== "Yes"
    ? ""
    : isMysql(s)
    ? "Replica has read all relay log; waiting for more updates"
    : "Slave has read all relay log; waiting for more updates"

/** The 60 columns of 8.0/8.4 (mysql8.md §1.1, server `show_slave_status_metadata()`), old and new names. */
const mysqlStatusColumns: ReadonlyArray<StatusColumn> = [
  col("Slave_IO_State", "Replica_IO_State", "string", ioStateText),
  col("Master_Host", "Source_Host", "string", (r) => r.sourceHost),
  col("Master_User", "Source_User", "string", (r) => r.sourceUser),
  col("Master_Port", "Source_Port", "long", (r) => r.sourcePort),
  same("Connect_Retry", "long", () => 60),
  col("Master_Log_File", "Source_Log_File", "string", (r) => r.sourceLogFile),
  col("Read_Master_Log_Pos", "Read_Source_Log_Pos", "longlong", (r) => r.readSourceLogPos),
  same("Relay_Log_File", "string", (r) => r.relayLogFile),
  same("Relay_Log_Pos", "longlong", (r) => r.relayLogPos),
  col("Relay_Master_Log_File", "Relay_Source_Log_File", "string", (r) => r.relaySourceLogFile),
  col("Slave_IO_Running", "Replica_IO_Running", "string", (r) => r.ioRunning),
  col("Slave_SQL_Running", "Replica_SQL_Running", "string", (r) => r.sqlRunning),
  same("Replicate_Do_DB", "string", (r) => r.replicateDoDb),
  same("Replicate_Ignore_DB", "string", empty),
  same("Replicate_Do_Table", "string", empty),
  same("Replicate_Ignore_Table", "string", empty),
  same("Replicate_Wild_Do_Table", "string", empty),
  same("Replicate_Wild_Ignore_Table", "string", empty),
  same("Last_Errno", "long", (r) => r.lastSqlErrno),
  same("Last_Error", "string", (r) => r.lastSqlError),
  same("Skip_Counter", "long", () => 0),
  col("Exec_Master_Log_Pos", "Exec_Source_Log_Pos", "longlong", (r) => r.execSourceLogPos),
  same("Relay_Log_Space", "longlong", () => 1083),
  same("Until_Condition", "string", () => "None"),
  same("Until_Log_File", "string", empty),
  same("Until_Log_Pos", "longlong", () => 0),
  col("Master_SSL_Allowed", "Source_SSL_Allowed", "string", () => "No"),
  col("Master_SSL_CA_File", "Source_SSL_CA_File", "string", empty),
  col("Master_SSL_CA_Path", "Source_SSL_CA_Path", "string", empty),
  col("Master_SSL_Cert", "Source_SSL_Cert", "string", empty),
  col("Master_SSL_Cipher", "Source_SSL_Cipher", "string", empty),
  col("Master_SSL_Key", "Source_SSL_Key", "string", empty),
  col("Seconds_Behind_Master", "Seconds_Behind_Source", "longlong", secondsBehind),
  col("Master_SSL_Verify_Server_Cert", "Source_SSL_Verify_Server_Cert", "string", () => "No"),
  same("Last_IO_Errno", "long", (r) => r.lastIoErrno),
  same("Last_IO_Error", "string", (r) => r.lastIoError),
  same("Last_SQL_Errno", "long", (r) => r.lastSqlErrno),
  same("Last_SQL_Error", "string", (r) => r.lastSqlError),
  same("Replicate_Ignore_Server_Ids", "string", empty),
  col("Master_Server_Id", "Source_Server_Id", "long", (r) => r.sourceServerId),
  col("Master_UUID", "Source_UUID", "string", (r) => r.sourceUuid),
  col("Master_Info_File", "Source_Info_File", "string", () => "mysql.slave_master_info"),
  same("SQL_Delay", "long", (r) => r.sqlDelay),
  same("SQL_Remaining_Delay", "long", () => null),
  col("Slave_SQL_Running_State", "Replica_SQL_Running_State", "string", sqlStateText),
  // 8.0 default 86400 (mysql8.md §2.5); 10 is the 9.5 manual's default, the 8.4 value is unconfirmed.
  col("Master_Retry_Count", "Source_Retry_Count", "longlong", (_r, s) => (s.flavor === "mysql-8.0" ? 86400 : 10)),
  col("Master_Bind", "Source_Bind", "string", empty),
  same("Last_IO_Error_Timestamp", "string", (r) => (r.lastIoErrno === 0 ? "" : "250101 00:00:01")),
  same("Last_SQL_Error_Timestamp", "string", (r) => (r.lastSqlErrno === 0 ? "" : "250101 00:00:01")),
  col("Master_SSL_Crl", "Source_SSL_Crl", "string", empty),
  col("Master_SSL_Crlpath", "Source_SSL_Crlpath", "string", empty),
  same("Retrieved_Gtid_Set", "string", (r) => r.retrievedGtidSet),
  same("Executed_Gtid_Set", "string", (_r, s) => s.gtidExecuted),
  same("Auto_Position", "long", (r) => b(r.autoPosition)),
  same("Replicate_Rewrite_DB", "string", empty),
  same("Channel_Name", "string", empty),
  col("Master_TLS_Version", "Source_TLS_Version", "string", empty),
  col("Master_public_key_path", "Source_public_key_path", "string", empty),
  col("Get_master_public_key", "Get_Source_public_key", "long", () => 0),
  same("Network_Namespace", "string", empty)
]

/** MariaDB 10.11 SHOW SLAVE STATUS (= SHOW REPLICA STATUS), names/order/types of mariadb.md §3 (captured). */
const mariadbStatusColumns: ReadonlyArray<StatusColumn> = [
  same("Slave_IO_State", "string", ioStateText),
  same("Master_Host", "string", (r) => r.sourceHost),
  same("Master_User", "string", (r) => r.sourceUser),
  same("Master_Port", "long", (r) => r.sourcePort),
  same("Connect_Retry", "long", () => 60),
  same("Master_Log_File", "string", (r) => r.sourceLogFile),
  same("Read_Master_Log_Pos", "longlong", (r) => r.readSourceLogPos),
  same("Relay_Log_File", "string", (r) => r.relayLogFile),
  same("Relay_Log_Pos", "longlong", (r) => r.relayLogPos),
  same("Relay_Master_Log_File", "string", (r) => r.relaySourceLogFile),
  same("Slave_IO_Running", "string", (r) => r.ioRunning),
  same("Slave_SQL_Running", "string", (r) => r.sqlRunning),
  same("Replicate_Do_DB", "string", (r) => r.replicateDoDb),
  same("Replicate_Ignore_DB", "string", empty),
  same("Replicate_Do_Table", "string", empty),
  same("Replicate_Ignore_Table", "string", empty),
  same("Replicate_Wild_Do_Table", "string", empty),
  same("Replicate_Wild_Ignore_Table", "string", empty),
  same("Last_Errno", "long", (r) => r.lastSqlErrno),
  same("Last_Error", "string", (r) => r.lastSqlError),
  same("Skip_Counter", "long", () => 0),
  same("Exec_Master_Log_Pos", "longlong", (r) => r.execSourceLogPos),
  same("Relay_Log_Space", "longlong", () => 1178),
  same("Until_Condition", "string", () => "None"),
  same("Until_Log_File", "string", empty),
  same("Until_Log_Pos", "longlong", () => 0),
  same("Master_SSL_Allowed", "string", () => "No"),
  same("Master_SSL_CA_File", "string", empty),
  same("Master_SSL_CA_Path", "string", empty),
  same("Master_SSL_Cert", "string", empty),
  same("Master_SSL_Cipher", "string", empty),
  same("Master_SSL_Key", "string", empty),
  same("Seconds_Behind_Master", "longlong", secondsBehind),
  same("Master_SSL_Verify_Server_Cert", "string", () => "No"),
  same("Last_IO_Errno", "long", (r) => r.lastIoErrno),
  same("Last_IO_Error", "string", (r) => r.lastIoError),
  same("Last_SQL_Errno", "long", (r) => r.lastSqlErrno),
  same("Last_SQL_Error", "string", (r) => r.lastSqlError),
  same("Replicate_Ignore_Server_Ids", "string", empty),
  same("Master_Server_Id", "long", (r) => r.sourceServerId),
  same("Master_SSL_Crl", "string", empty),
  same("Master_SSL_Crlpath", "string", empty),
  same("Using_Gtid", "string", (r) => r.usingGtid),
  same("Gtid_IO_Pos", "string", (r) => r.gtidIoPos),
  same("Replicate_Do_Domain_Ids", "string", empty),
  same("Replicate_Ignore_Domain_Ids", "string", empty),
  same("Parallel_Mode", "string", () => "optimistic"),
  same("SQL_Delay", "long", (r) => r.sqlDelay),
  same("SQL_Remaining_Delay", "long", () => null),
  same("Slave_SQL_Running_State", "string", sqlStateText),
  same("Slave_DDL_Groups", "longlong", () => 4),
  same("Slave_Non_Transactional_Groups", "longlong", () => 0),
  same("Slave_Transactional_Groups", "longlong", () => 3),
  same("Replicate_Rewrite_DB", "string", empty)
]

const replicaStatus = (s: FakeInstanceState, newNames: boolean): Result => {
  const cols = isMysql(s) ? mysqlStatusColumns : mariadbStatusColumns
  const columns = cols.map((c) => ({ name: newNames ? c.new : c.old, type: c.type }))
  const r = s.replication
  // An empty result set when the server is not a replica (mysql8.md §1.1; mariadb.md §3).
  return rowsResult(columns, r === null ? [] : [cols.map((c) => c.get(r, s))])
}

const binlogStatus = (s: FakeInstanceState): Result => {
  const columns: Array<Column> = [
    { name: "File", type: "string" },
    { name: "Position", type: "longlong" },
    { name: "Binlog_Do_DB", type: "string" },
    { name: "Binlog_Ignore_DB", type: "string" }
  ]
  if (isMysql(s)) columns.push({ name: "Executed_Gtid_Set", type: "string" })
  if (!s.logBin) return rowsResult(columns, [])
  const row: Array<Value> = [s.binlogFile, s.binlogPosition, "", ""]
  if (isMysql(s)) row.push(s.gtidExecuted)
  return rowsResult(columns, [row])
}

/** SHOW REPLICAS (new names) / SHOW SLAVE HOSTS (old names; MariaDB has no UUID column), mysql8.md §2.2. */
const replicaHosts = (s: FakeInstanceState, newNames: boolean): Result => {
  const mysql = isMysql(s)
  const columns: Array<Column> = [
    { name: newNames ? "Server_Id" : "Server_id", type: "long" },
    { name: "Host", type: "string" },
    { name: "Port", type: "long" },
    { name: newNames ? "Source_Id" : "Master_id", type: "long" }
  ]
  if (mysql) columns.push({ name: newNames ? "Replica_UUID" : "Slave_UUID", type: "string" })
  return rowsResult(
    columns,
    s.replicas.map((r) =>
      mysql ? [r.serverId, r.host, r.port, s.serverId, r.uuid] : [r.serverId, r.host, r.port, s.serverId]
    )
  )
}

// ---- SELECT ------------------------------------------------------------------------------------------------

type Token =
  | { readonly t: "var"; readonly scope: string; readonly name: string }
  | { readonly t: "id"; readonly v: string }
  | { readonly t: "num"; readonly v: number }
  | { readonly t: "str"; readonly v: string }
  | { readonly t: "op"; readonly v: string }

const tokenize = (text: string): Array<Token> | undefined => {
  const out: Array<Token> = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
      continue
    }
    let m: RegExpExecArray | null
    const rest = text.slice(i)
    if ((m = /^@@(?:(global|session|local)\.)?([A-Za-z_][A-Za-z0-9_]*)/i.exec(rest)) !== null) {
      out.push({ t: "var", scope: (m[1] ?? "").toLowerCase(), name: m[2]!.toLowerCase() })
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_$]*(?:\.[A-Za-z_][A-Za-z0-9_$]*)?/.exec(rest)) !== null) {
      out.push({ t: "id", v: m[0] })
    } else if ((m = /^\d+/.exec(rest)) !== null) {
      out.push({ t: "num", v: Number(m[0]) })
    } else if (c === "'" || c === "\"") {
      let j = i + 1
      let v = ""
      while (j < text.length && text[j] !== c) {
        if (text[j] === "\\" && j + 1 < text.length) j++
        v += text[j]
        j++
      }
      if (j >= text.length) return undefined
      out.push({ t: "str", v })
      i = j + 1
      continue
    } else if ((m = /^(!=|<>|>=|<=|[=<>(),*])/.exec(rest)) !== null) {
      out.push({ t: "op", v: m[0] })
    } else {
      return undefined
    }
    i += m[0].length
  }
  return out
}

type Env = {
  readonly vars: ReadonlyMap<string, Value>
  readonly row: ReadonlyMap<string, Value> | undefined
}

class EvalError {
  constructor(readonly result: Result) {}
}

/** A tiny expression evaluator: literals, @@variables, columns, =, !=, >, AND, IFNULL, SUBSTRING_INDEX, VERSION. */
const evaluate = (tokens: ReadonlyArray<Token>, env: Env, s: FakeInstanceState): Value => {
  let pos = 0
  const peek = () => tokens[pos]
  const take = () => tokens[pos++]
  const expectOp = (v: string) => {
    const t = take()
    if (t === undefined || t.t !== "op" || t.v !== v) throw new EvalError(parseError(s, v))
  }
  const primary = (): Value => {
    const t = take()
    if (t === undefined) throw new EvalError(parseError(s, ""))
    switch (t.t) {
      case "num":
        return t.v
      case "str":
        return t.v
      case "var": {
        if (!env.vars.has(t.name)) throw new EvalError(unknownVariable(t.name))
        return env.vars.get(t.name)!
      }
      case "op":
        if (t.v === "(") {
          const v = or()
          expectOp(")")
          return v
        }
        throw new EvalError(parseError(s, t.v))
      case "id": {
        const name = t.v.toLowerCase()
        const next = peek()
        if (next !== undefined && next.t === "op" && next.v === "(") {
          take()
          const args: Array<Value> = []
          const n2 = peek()
          if (!(n2 !== undefined && n2.t === "op" && n2.v === ")")) {
            args.push(or())
            while (peek()?.t === "op" && (peek() as { v: string }).v === ",") {
              take()
              args.push(or())
            }
          }
          expectOp(")")
          if (name === "ifnull" && args.length === 2) return args[0] ?? args[1]!
          if (name === "version" && args.length === 0) return s.version
          if (name === "substring_index" && args.length === 3) {
            if (args[0] === null) return null
            const parts = String(args[0]).split(String(args[1]))
            const n = Number(args[2])
            return n >= 0 ? parts.slice(0, n).join(String(args[1])) : parts.slice(n).join(String(args[1]))
          }
          throw new EvalError(parseError(s, t.v))
        }
        if (name === "null") return null
        if (name === "true") return 1
        if (name === "false") return 0
        if (env.row !== undefined && env.row.has(name)) return env.row.get(name)!
        throw new EvalError({
          _tag: "Error",
          errno: 1054,
          sqlState: "42S22",
          message: `Unknown column '${t.v}' in 'field list'`
        })
      }
    }
  }
  const compare = (): Value => {
    const left = primary()
    const t = peek()
    if (t !== undefined && t.t === "op" && ["=", "!=", "<>", ">", "<", ">=", "<="].includes(t.v)) {
      take()
      const right = primary()
      if (left === null || right === null) return null
      const l = typeof left === "number" && typeof right === "number" ? left : String(left).toLowerCase()
      const r = typeof left === "number" && typeof right === "number" ? right : String(right).toLowerCase()
      switch (t.v) {
        case "=":
          return b(l === r)
        case "!=":
        case "<>":
          return b(l !== r)
        case ">":
          return b(l > r)
        case "<":
          return b(l < r)
        case ">=":
          return b(l >= r)
        default:
          return b(l <= r)
      }
    }
    if (t !== undefined && t.t === "id" && t.v.toLowerCase() === "in") {
      take()
      expectOp("(")
      const options: Array<Value> = [primary()]
      while (peek()?.t === "op" && (peek() as { v: string }).v === ",") {
        take()
        options.push(primary())
      }
      expectOp(")")
      const wanted = left === null ? null : String(left).toLowerCase()
      return b(options.some((o) => o !== null && String(o).toLowerCase() === wanted))
    }
    return left
  }
  const and = (): Value => {
    let v = compare()
    while (peek()?.t === "id" && (peek() as { v: string }).v.toLowerCase() === "and") {
      take()
      const r = compare()
      v = v === null || r === null ? null : b(Number(v) !== 0 && Number(r) !== 0)
    }
    return v
  }
  const or = (): Value => {
    let v = and()
    while (peek()?.t === "id" && (peek() as { v: string }).v.toLowerCase() === "or") {
      take()
      const r = and()
      v = v === null || r === null ? null : b(Number(v) !== 0 || Number(r) !== 0)
    }
    return v
  }
  const v = or()
  if (pos !== tokens.length) throw new EvalError(parseError(s, "..."))
  return v
}

/** Splits on commas at parenthesis depth 0, outside quotes. */
const splitTopLevel = (text: string, sep: string): Array<string> => {
  const parts: Array<string> = []
  let depth = 0
  let quote: string | undefined
  let cur = ""
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quote !== undefined) {
      cur += c
      if (c === "\\" && i + 1 < text.length) cur += text[++i]
      else if (c === quote) quote = undefined
      continue
    }
    if (c === "'" || c === "\"" || c === "`") quote = c
    if (c === "(") depth++
    if (c === ")") depth--
    if (c === sep && depth === 0) {
      parts.push(cur)
      cur = ""
      continue
    }
    cur += c
  }
  parts.push(cur)
  return parts
}

const valueType = (v: Value, hint?: ColumnType): ColumnType =>
  hint ?? (v === null ? "null" : typeof v === "number" ? "longlong" : "string")

interface SelectItem {
  readonly name: string
  readonly tokens: ReadonlyArray<Token>
}

const keywords = new Set(["AND", "OR", "IN", "AS", "NOT", "FROM", "WHERE"])

/** A token that can end an expression, so an identifier after it is an implicit alias (`SELECT 1 one`). */
const endsValue = (t: Token): boolean =>
  t.t === "var" || t.t === "num" || t.t === "str" || (t.t === "op" && t.v === ")") ||
  (t.t === "id" && !keywords.has(t.v.toUpperCase()))

/** Select items with their column names: the alias, else the expression text as written (as MySQL does). */
const parseSelectList = (list: string, s: FakeInstanceState): Array<SelectItem> | Result => {
  const items: Array<SelectItem> = []
  for (const raw of splitTopLevel(list, ",")) {
    const text = raw.trim()
    const tokens = tokenize(text)
    if (tokens === undefined || tokens.length === 0) return parseError(s, text)
    const n = tokens.length
    const last = tokens[n - 1]!
    const before = tokens[n - 2]
    if (n >= 3 && before !== undefined && before.t === "id" && before.v.toUpperCase() === "AS" && last.t === "id") {
      items.push({ name: last.v, tokens: tokens.slice(0, n - 2) })
    } else if (
      n >= 2 && before !== undefined && last.t === "id" && !keywords.has(last.v.toUpperCase()) && endsValue(before)
    ) {
      items.push({ name: last.v, tokens: tokens.slice(0, n - 1) })
    } else {
      items.push({ name: text, tokens })
    }
  }
  return items
}

/** Rows of the "tables" the probe reads, keyed by lower-cased column name. */
const tableRows = (s: FakeInstanceState, table: string): Array<ReadonlyMap<string, Value>> | undefined => {
  switch (table) {
    case "information_schema.processlist":
    case "performance_schema.processlist": {
      const rows: Array<ReadonlyMap<string, Value>> = s.replicas.map((r, idx) =>
        new Map<string, Value>([
          ["id", 100 + idx],
          ["user", "repl"],
          ["host", `${r.host}:${41000 + idx}`],
          ["db", null],
          ["command", isMysql(s) && r.gtidDump ? "Binlog Dump GTID" : "Binlog Dump"],
          ["time", s.uptime],
          [
            "state",
            isMysql(s)
              ? "Source has sent all binlog to replica; waiting for more updates"
              : "Master has sent all binlog to slave; waiting for more updates"
          ],
          ["info", null]
        ])
      )
      rows.push(
        new Map<string, Value>([
          ["id", 7],
          ["user", "orchestrator"],
          ["host", "127.0.0.1:42424"],
          ["db", null],
          ["command", "Query"],
          ["time", 0],
          ["state", "executing"],
          ["info", "SELECT ..."]
        ])
      )
      return rows
    }
    case "performance_schema.replication_group_members": {
      if (!isMysql(s)) return undefined
      const member = (uuid: string, host: string, port: Value, state: string, role: string) =>
        new Map<string, Value>([
          ["channel_name", "group_replication_applier"],
          ["member_id", uuid],
          ["member_host", host],
          ["member_port", port],
          ["member_state", state],
          ["member_role", role]
        ])
      // Without the plugin the table holds one OFFLINE row for the local member.
      if (s.group === null) return [member("", "", null, "OFFLINE", "")]
      return s.group.members.map((m) => member(m.uuid, m.host, m.port, m.state, m.role))
    }
    default:
      return undefined
  }
}

const select = (body: string, s: FakeInstanceState): Result => {
  const vars = systemVariables(s)
  // FROM / WHERE split (outside quotes and parentheses).
  const m = /^(.*?)\s+FROM\s+([A-Za-z_][\w.]*)(?:\s+WHERE\s+(.*))?$/is.exec(body)
  if (m === null) {
    const items = parseSelectList(body, s)
    if (!Array.isArray(items)) return items
    try {
      const values = items.map((it) => evaluate(it.tokens, { vars, row: undefined }, s))
      return rowsResult(items.map((it, i) => ({ name: it.name, type: valueType(values[i]!) })), [values])
    } catch (e) {
      if (e instanceof EvalError) return e.result
      throw e
    }
  }
  const [, list, tableRaw, where] = m
  const table = tableRaw!.toLowerCase()
  if (table === "mysql.slave_master_info") {
    // `select count(*) > 0 and MAX(User_name) != '' from mysql.slave_master_info` (orchestrator).
    if (!isMysql(s)) {
      return { _tag: "Error", errno: 1146, sqlState: "42S02", message: "Table 'mysql.slave_master_info' doesn't exist" }
    }
    const alias = /\bAS\s+([A-Za-z_]\w*)\s*$/i.exec(list!)
    const has = s.replication !== null && s.replication.sourceUser !== ""
    return rowsResult([{ name: alias?.[1] ?? list!.trim(), type: "longlong" }], [[b(has)]])
  }
  const rows = tableRows(s, table)
  if (rows === undefined) {
    const [schema, name] = table.includes(".") ? table.split(".") : ["", table]
    return { _tag: "Error", errno: 1146, sqlState: "42S02", message: `Table '${schema}.${name}' doesn't exist` }
  }
  const items = parseSelectList(list!, s)
  if (!Array.isArray(items)) return items
  const whereTokens = where === undefined ? undefined : tokenize(where)
  if (where !== undefined && whereTokens === undefined) return parseError(s, where)
  try {
    const out: Array<Array<Value>> = []
    for (const row of rows) {
      if (whereTokens !== undefined) {
        const keep = evaluate(whereTokens, { vars, row }, s)
        if (keep === null || Number(keep) === 0) continue
      }
      out.push(items.map((it) => evaluate(it.tokens, { vars, row }, s)))
    }
    const columns = items.map((it, i) => {
      const first = out.find((r) => r[i] !== null)?.[i] ?? null
      const single = it.tokens.length === 1 && it.tokens[0]!.t === "id" ? it.tokens[0]!.v.toLowerCase() : undefined
      const hint: ColumnType | undefined = single === "member_port" ? "long" : first === null ? "string" : undefined
      return { name: it.name, type: valueType(first, hint) }
    })
    return rowsResult(columns, out)
  } catch (e) {
    if (e instanceof EvalError) return e.result
    throw e
  }
}

// ---- dispatch ----------------------------------------------------------------------------------------------

/** Collapses whitespace and drops a trailing `;`. */
export const normalize = (sql: string): string => sql.replace(/\s+/g, " ").trim().replace(/;$/, "").trim()

/**
 * Splits a multi-statement text query on `;` outside quotes and comments (how the server's lexer sees
 * statement boundaries when CLIENT_MULTI_STATEMENTS is on).
 */
export const splitStatements = (sql: string): Array<string> =>
  splitTopLevel(sql.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/(^|\s)--\s[^\n]*/g, " "), ";")
    .map((x) => x.trim())
    .filter((x) => x.length > 0)

/** Executes one statement against the state. */
export const execute = (s: FakeInstanceState, sql: string): Result => {
  const text = normalize(sql)
  const upper = text.toUpperCase()
  const mysql = isMysql(s)
  const v84 = s.flavor === "mysql-8.4"
  let m: RegExpExecArray | null

  if ((m = /^SHOW (?:GLOBAL |SESSION )?VARIABLES(?: LIKE '([^']*)')?$/i.exec(text)) !== null) {
    return nameValueRows(showVariables(s), m[1])
  }
  if ((m = /^SHOW (?:GLOBAL |SESSION )?STATUS(?: LIKE '([^']*)')?$/i.exec(text)) !== null) {
    return nameValueRows(showStatus(s), m[1])
  }
  if (/^SHOW SLAVE STATUS$/.test(upper)) {
    // Removed in 8.4: ER_PARSE_ERROR near 'SLAVE STATUS' (mysql8.md §0, [I-mydumper]).
    return v84 ? parseError(s, text.slice(5)) : replicaStatus(s, false)
  }
  if (/^SHOW REPLICA STATUS$/.test(upper)) return replicaStatus(s, mysql)
  if (/^SHOW MASTER STATUS$/.test(upper)) return v84 ? parseError(s, text.slice(5)) : binlogStatus(s)
  if (/^SHOW BINARY LOG STATUS$/.test(upper)) {
    // Added in 8.2.0 (mysql8.md §2.1); 8.0 and MariaDB stop at LOG (captured on MariaDB).
    return v84 ? binlogStatus(s) : parseError(s, text.slice("SHOW BINARY ".length))
  }
  if (/^SHOW BINLOG STATUS$/.test(upper) && !mysql) return binlogStatus(s)
  if (/^SHOW SLAVE HOSTS$/.test(upper)) return v84 ? parseError(s, text.slice(5)) : replicaHosts(s, false)
  if (/^SHOW REPLICA HOSTS$/.test(upper) && !mysql) return replicaHosts(s, false)
  if (/^SHOW REPLICAS$/.test(upper)) return mysql ? replicaHosts(s, true) : parseError(s, text.slice(5))
  if (/^SELECT\s/i.test(text)) return select(text.slice(7), s)
  if (/^SET\s/i.test(text)) return { _tag: "Ok" }
  if (/^(BEGIN|COMMIT|ROLLBACK|DO 1)$/i.test(text)) return { _tag: "Ok" }
  return parseError(s, text)
}
