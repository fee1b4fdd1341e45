/**
 * Replication and instance control (orchestrator api.go §2.5 routes; go/inst/instance_topology_dao.go and
 * instance_topology.go): the statements each operation sends, per server version, and the pure checks that
 * decide whether it may run. Pure; service/http/ControlHandlers.ts executes them through TopologySql.
 *
 * Statements are built on the client with escaping (core/discovery/TopologySql.ts `sql`): MariaDB cannot
 * prepare CHANGE MASTER (spec mariadb.md §3). Spelling follows the version gates of spec mysql8.md §0:
 * - MariaDB keeps `SLAVE` / `CHANGE MASTER TO MASTER_*` (it accepts both, the old one everywhere);
 * - MySQL 8.0.22+ has `START/STOP/RESET REPLICA`, `SHOW REPLICA STATUS` (the old forms are gone in 8.4);
 * - MySQL 8.0.23+ has `CHANGE REPLICATION SOURCE TO SOURCE_*` (the old one is gone in 8.4);
 * - MySQL 8.0.26+ renames `sql_slave_skip_counter` to `sql_replica_skip_counter`;
 * - MySQL 8.2+ has `RESET BINARY LOGS AND GTIDS` (RESET MASTER is gone in 8.4).
 * Orchestrator itself sends the 5.7 spelling everywhere, which 8.4 rejects with ER_PARSE_ERROR.
 */
import { Either } from "effect"
import * as Gtid from "../analysis/GtidSet.js"
import { isSmallerBinlogFormat, isSmallerMajorVersion } from "../analysis/Candidate.js"
import { isBinlogServer } from "../analysis/Counts.js"
import { compareCoordinates } from "../analysis/Position.js"
import { raw, sql, type Statement } from "../discovery/TopologySql.js"
import type { BinlogCoordinates, Instance, SemiSync } from "./Instance.js"
import * as Model from "./Instance.js"
import * as Key from "./InstanceKey.js"
import { type RawRow, str, toInt, field } from "./probe/RawRow.js"
import * as SV from "./probe/ServerVersion.js"

/** The server facts statement spelling depends on. */
export type Syntax = SV.ServerVersion

export const syntaxOf = (i: Pick<Instance, "version" | "versionComment">): Syntax => SV.parse(i.version, i.versionComment)

/** `REPLICA` from MySQL 8.0.22 (START/STOP/RESET/SHOW ... STATUS), `SLAVE` on MariaDB and older MySQL. */
const replicaWord = (s: Syntax): string => (SV.hasReplicaStatements(s) ? "REPLICA" : "SLAVE")

/** `CHANGE REPLICATION SOURCE TO SOURCE_*` from MySQL 8.0.23. */
export const usesSourceTerms = (s: Syntax): boolean => s.family === "mysql" && SV.atLeast(s, 8, 0, 23)

const statement = (text: string): Statement => ({ _tag: "Statement", text })

/** Several statements sent as one multi-statement query: they run on one connection, in one session. */
export const script = (statements: ReadonlyArray<Statement>): Statement => statement(statements.map((s) => s.text).join("; "))

// ---- replication threads ---------------------------------------------------------------------------------------

export type Thread = "IO_THREAD" | "SQL_THREAD"

export const startReplication = (s: Syntax, thread?: Thread): Statement =>
  statement(`START ${replicaWord(s)}${thread === undefined ? "" : ` ${thread}`}`)

export const stopReplication = (s: Syntax, thread?: Thread): Statement =>
  statement(`STOP ${replicaWord(s)}${thread === undefined ? "" : ` ${thread}`}`)

export const showReplicaStatus = (s: Syntax): Statement => statement(`SHOW ${replicaWord(s)} STATUS`)

export const resetReplicaAll = (s: Syntax): Statement => statement(`RESET ${replicaWord(s)} ALL`)

/** What a SHOW SLAVE/REPLICA STATUS row says about the threads (the 1-second waits poll this, not a full probe). */
export interface ThreadsStatus {
  readonly io: string
  readonly sql: string
  /** What the IO thread has read of the master's binlog. */
  readonly read: { readonly logFile: string; readonly logPos: number }
  /** What the SQL thread has executed of the master's binlog. */
  readonly exec: { readonly logFile: string; readonly logPos: number }
}

/** Parses the first row of SHOW SLAVE/REPLICA STATUS (old or new column names); undefined when not a replica. */
export const threadsStatus = (rows: ReadonlyArray<RawRow>): ThreadsStatus | undefined => {
  const row = rows[0]
  if (row === undefined || field(row, "Slave_IO_Running", "Replica_IO_Running") === undefined) return undefined
  return {
    io: str(row, ["Slave_IO_Running", "Replica_IO_Running"]),
    sql: str(row, ["Slave_SQL_Running", "Replica_SQL_Running"]),
    read: {
      logFile: str(row, ["Master_Log_File", "Source_Log_File"]),
      logPos: toInt(field(row, "Read_Master_Log_Pos", "Read_Source_Log_Pos")) ?? 0
    },
    exec: {
      logFile: str(row, ["Relay_Master_Log_File", "Relay_Source_Log_File"]),
      logPos: toInt(field(row, "Exec_Master_Log_Pos", "Exec_Source_Log_Pos")) ?? 0
    }
  }
}

/** orchestrator `expectReplicationThreadsState`: both threads "Yes" (running) or both "No" (stopped). */
export const threadsAre = (t: ThreadsStatus | undefined, state: "running" | "stopped"): boolean => {
  const want = state === "running" ? "Yes" : "No"
  return t !== undefined && t.io === want && t.sql === want
}

/** orchestrator `SQLThreadUpToDate`: executed everything the IO thread read. */
export const sqlThreadUpToDate = (t: ThreadsStatus): boolean =>
  t.read.logFile === t.exec.logFile && t.read.logPos === t.exec.logPos

// ---- CHANGE MASTER ---------------------------------------------------------------------------------------------

/** How a CHANGE MASTER treats GTID (orchestrator's `OperationGTIDHint` applied to the replica's current mode). */
export type GtidMode =
  /** Leave the replica's GTID setting as it is (only host/port, or file:pos, change). */
  | { readonly _tag: "keep" }
  | { readonly _tag: "mariadb"; readonly useGtid: "slave_pos" | "current_pos" | "no" }
  | { readonly _tag: "mysql"; readonly autoPosition: boolean }

export interface ChangeSource {
  readonly host: string
  readonly port: number
  /** file:pos to resume at: needed whenever GTID does not position the replica (a new host resets it). */
  readonly coordinates: { readonly logFile: string; readonly logPos: number } | null
  readonly gtid: GtidMode
}

/**
 * `CHANGE MASTER TO MASTER_HOST=..., MASTER_PORT=...` (or `CHANGE REPLICATION SOURCE TO SOURCE_...` on MySQL
 * 8.0.23+). Unnamed options keep their values, so the replication user and password stay.
 */
export const changeSource = (s: Syntax, c: ChangeSource): Statement => {
  const src = usesSourceTerms(s)
  const p = src ? "SOURCE" : "MASTER"
  const parts: Array<string> = [
    sql`${raw(p)}_HOST=${c.host}`.text,
    sql`${raw(p)}_PORT=${c.port}`.text
  ]
  if (c.coordinates !== null) {
    parts.push(sql`${raw(p)}_LOG_FILE=${c.coordinates.logFile}`.text, sql`${raw(p)}_LOG_POS=${c.coordinates.logPos}`.text)
  }
  if (c.gtid._tag === "mariadb") parts.push(`MASTER_USE_GTID=${c.gtid.useGtid}`)
  if (c.gtid._tag === "mysql") parts.push(`${p}_AUTO_POSITION=${c.gtid.autoPosition ? 1 : 0}`)
  return statement(`${src ? "CHANGE REPLICATION SOURCE TO" : "CHANGE MASTER TO"} ${parts.join(", ")}`)
}

/**
 * orchestrator `ResetReplication` first points the replica at the dummy host `_`: SHOW SLAVE STATUS of a plain
 * RESET SLAVE still shows the old master until a restart, and `_` is what IsReplica treats as "no master".
 */
export const changeSourceToDummyHost = (s: Syntax): Statement =>
  usesSourceTerms(s) ? sql`CHANGE REPLICATION SOURCE TO SOURCE_HOST=${"_"}` : sql`CHANGE MASTER TO MASTER_HOST=${"_"}`

/** `MASTER_DELAY` / `SOURCE_DELAY` (orchestrator `DelayReplication`). */
export const changeSourceDelay = (s: Syntax, seconds: number): Statement =>
  usesSourceTerms(s)
    ? sql`CHANGE REPLICATION SOURCE TO SOURCE_DELAY=${seconds}`
    : sql`CHANGE MASTER TO MASTER_DELAY=${seconds}`

/**
 * The CHANGE MASTER that repoints `replica` at `host:port` (orchestrator `ChangeMasterTo`): GTID replicas keep
 * GTID ("keep"), unless GTID is forced on (enable-gtid) or denied (disable-gtid); without GTID the replica
 * resumes at its exec coordinates, since a new host resets file:pos.
 */
export const repointStatement = (
  s: Syntax,
  replica: Instance,
  host: string,
  port: number,
  hint: "neutral" | "force" | "deny"
): Statement => {
  const exec = replica.replication?.execBinlogCoordinates ?? Model.emptyCoordinates()
  const coords = { logFile: exec.logFile === "" ? "orchestrator-unknown-log-file" : exec.logFile, logPos: exec.logPos }
  const mariadb = s.family === "mariadb"
  if (Model.usingMariaDbGtid(replica)) {
    return hint === "deny"
      ? changeSource(s, { host, port, coordinates: coords, gtid: { _tag: "mariadb", useGtid: "no" } })
      : changeSource(s, { host, port, coordinates: null, gtid: { _tag: "keep" } })
  }
  if (mariadb && hint === "force") {
    // A former master has no slave position yet: current_pos (MariaDB KB, CHANGE MASTER TO; orchestrator #1146).
    const useGtid = Model.replicationThreadsExist(replica) ? "slave_pos" : "current_pos"
    return changeSource(s, { host, port, coordinates: null, gtid: { _tag: "mariadb", useGtid } })
  }
  if (Model.usingOracleGtid(replica)) {
    return hint === "deny"
      ? changeSource(s, { host, port, coordinates: coords, gtid: { _tag: "mysql", autoPosition: false } })
      : changeSource(s, { host, port, coordinates: null, gtid: { _tag: "keep" } })
  }
  if (Model.supportsOracleGtid(replica) && hint === "force") {
    return changeSource(s, { host, port, coordinates: null, gtid: { _tag: "mysql", autoPosition: true } })
  }
  return changeSource(s, { host, port, coordinates: coords, gtid: { _tag: "keep" } })
}

// ---- detach / reattach ---------------------------------------------------------------------------------------

/** orchestrator `InstanceKey.DetachedKey`: `//host`, so replication stops but the master is remembered. */
export const detachedHost = (host: string): string => (host.startsWith(Key.detachHint) ? host : `${Key.detachHint}${host}`)

/** orchestrator `InstanceKey.ReattachedKey`: the host without its `//`. */
export const reattachedHost = (host: string): string =>
  host.startsWith(Key.detachHint) ? host.slice(Key.detachHint.length) : host

// ---- simple statements -----------------------------------------------------------------------------------------

export const setReadOnly = (readOnly: boolean): Statement => sql`SET GLOBAL read_only = ${readOnly ? 1 : 0}`
export const flushBinaryLogs: Statement = sql`FLUSH BINARY LOGS`
/** `PURGE BINARY LOGS TO`: every file before `logFile` goes (PURGE MASTER LOGS is gone in 8.4). */
export const purgeBinaryLogsTo = (logFile: string): Statement => sql`PURGE BINARY LOGS TO ${logFile}`
export const showBinaryLogs: Statement = sql`SHOW BINARY LOGS`
/** The first events of a binlog: MySQL's `Previous_gtids` event is among them (orchestrator `GetPreviousGTIDs`). */
export const showBinlogEvents = (logFile: string): Statement => sql`SHOW BINLOG EVENTS IN ${logFile} LIMIT 5`
export const killQuery = (processId: number): Statement => sql`KILL QUERY ${processId}`
export const selectGtidExecuted: Statement = sql`SELECT @@GLOBAL.gtid_executed AS gtid_executed`
export const setGtidPurged = (set: string): Statement => sql`SET GLOBAL gtid_purged = ${set}`
export const gtidNextAutomatic: Statement = sql`SET GTID_NEXT = ${"AUTOMATIC"}`

/** Skip one event group of a non-GTID (or MariaDB) replica: `sql_replica_skip_counter` from MySQL 8.0.26. */
export const skipOneEvent = (s: Syntax): Statement =>
  SV.hasReplicaVariableNames(s) ? sql`SET GLOBAL sql_replica_skip_counter = 1` : sql`SET GLOBAL sql_slave_skip_counter = 1`

/** `RESET MASTER`, `RESET BINARY LOGS AND GTIDS` from MySQL 8.2 (spec mysql8.md §2.4). */
export const resetBinaryLogs = (s: Syntax): Statement =>
  s.family === "mysql" && SV.atLeast(s, 8, 2, 0) ? sql`RESET BINARY LOGS AND GTIDS` : sql`RESET MASTER`

/**
 * Empty transactions with the given GTIDs, on one session: `SET GTID_NEXT='g'; BEGIN; COMMIT` each, then back to
 * AUTOMATIC (orchestrator `injectEmptyGTIDTransaction`, skip-query on MySQL GTID).
 */
export const injectEmpty = (gtids: ReadonlyArray<string>): Statement =>
  script([...gtids.flatMap((g) => [sql`SET GTID_NEXT = ${g}`, sql`BEGIN`, sql`COMMIT`]), gtidNextAutomatic])

// ---- semi-sync -------------------------------------------------------------------------------------------------

/** The variable names the server exposes (MariaDB built-in and old MySQL plugins: master/slave). */
const semiSyncNames = (naming: SemiSync["naming"]) =>
  naming === "source-replica"
    ? { master: "rpl_semi_sync_source_enabled", replica: "rpl_semi_sync_replica_enabled" }
    : { master: "rpl_semi_sync_master_enabled", replica: "rpl_semi_sync_slave_enabled" }

export const setSemiSyncMaster = (naming: SemiSync["naming"], enable: boolean): Statement =>
  sql`SET GLOBAL ${raw(semiSyncNames(naming).master)} = ${enable ? 1 : 0}`

export const setSemiSyncReplica = (naming: SemiSync["naming"], enable: boolean): Statement =>
  sql`SET GLOBAL ${raw(semiSyncNames(naming).replica)} = ${enable ? 1 : 0}`

// ---- restart-preserving statements ---------------------------------------------------------------------------

/**
 * What delay-replication runs (orchestrator `GetReplicationRestartPreserveStatements` + `DelayReplication`): stop
 * the running threads, `injected` (it needs them stopped), start them again in reverse order.
 */
export const restartPreservePlan = (
  s: Syntax,
  running: { readonly io: boolean; readonly sql: boolean },
  injected: Statement
): ReadonlyArray<Statement> => [
  ...(running.io ? [stopReplication(s, "IO_THREAD")] : []),
  ...(running.sql ? [stopReplication(s, "SQL_THREAD")] : []),
  injected,
  ...(running.sql ? [startReplication(s, "SQL_THREAD")] : []),
  ...(running.io ? [startReplication(s, "IO_THREAD")] : [])
]

/**
 * orchestrator `GetReplicationRestartPreserveStatements`: stop the threads that run, run `injected`, start them
 * again in reverse order; a thread that is not running is neither stopped nor started. Lower case and `;`
 * terminated, as orchestrator answers them (restart-replica-statements); `REPLICA` on MySQL 8.0.22+.
 */
export const restartPreserveStatements = (
  s: Syntax,
  running: { readonly io: boolean; readonly sql: boolean },
  injected: string
): ReadonlyArray<string> => {
  const word = replicaWord(s).toLowerCase()
  const terminated = (q: string) => (q.trimEnd().endsWith(";") ? q : `${q};`)
  return [
    ...(running.io ? [`stop ${word} io_thread;`] : []),
    ...(running.sql ? [`stop ${word} sql_thread;`] : []),
    ...(injected !== "" ? [terminated(injected)] : []),
    ...(running.sql ? [`start ${word} sql_thread;`] : []),
    ...(running.io ? [`start ${word} io_thread;`] : [])
  ]
}

// ---- binary logs -------------------------------------------------------------------------------------------------

const coordinatesText = (c: { readonly logFile: string; readonly logPos: number }) => `${c.logFile}:${c.logPos}`

/**
 * orchestrator `PurgeBinaryLogsTo` without force: purging up to `logFile` deletes every earlier file, so each
 * replica must already execute beyond `logFile:0`. The error names the first replica that does not.
 */
export const purgeRefusal = (
  key: Key.InstanceKey,
  logFile: string,
  replicas: ReadonlyArray<Instance>
): string | null => {
  const purge: BinlogCoordinates = { logFile, logPos: 0, type: "binary" }
  for (const r of replicas) {
    const exec = r.replication?.execBinlogCoordinates ?? Model.emptyCoordinates()
    if (compareCoordinates(purge, exec) >= 0) {
      return `Unsafe to purge binary logs on ${Key.format(key)} up to ${logFile} because replica ${Key.format(r.key)} has only applied up to ${coordinatesText(exec)}`
    }
  }
  return null
}

/** The `Log_name` column of SHOW BINARY LOGS. */
export const binaryLogNames = (rows: ReadonlyArray<RawRow>): ReadonlyArray<string> =>
  rows.map((r) => str(r, ["Log_name"])).filter((n) => n !== "")

/** The `Previous_gtids` event's text among the first events of a binlog ("" when there is none: no GTIDs yet). */
export const previousGtids = (rows: ReadonlyArray<RawRow>): string => {
  const event = rows.find((r) => str(r, ["Event_type"]) === "Previous_gtids")
  return event === undefined ? "" : str(event, ["Info"])
}

// ---- GTID ------------------------------------------------------------------------------------------------------

const parseSet = (text: string) => Gtid.parse(text)

/**
 * The GTID a stopped SQL thread failed on (skip-query on MySQL GTID). What was retrieved but not executed, when
 * that is a single source: its first transaction. Otherwise orchestrator's `NextGTID` heuristic: the last
 * member of the executed set, one past its last interval.
 */
export const failedGtid = (executed: string, retrieved: string): Either.Either<string, string> => {
  const exec = parseSet(executed)
  if (Either.isLeft(exec)) return Either.left(exec.left)
  const got = parseSet(retrieved)
  if (Either.isRight(got)) {
    const pending = Gtid.subtract(got.right, exec.right)
    if (pending.size === 1) {
      const [source, intervals] = [...pending.entries()][0]!
      return Either.right(`${source}:${intervals[0]!.start}`)
    }
  }
  if (executed.trim() === "") return Either.left("No value found in Executed_Gtid_Set; cannot compute NextGTID")
  const last = executed.split(",").map((m) => m.trim()).filter((m) => m !== "").pop() ?? ""
  const tokens = last.split(":")
  const lastNumber = Number((tokens[tokens.length - 1] ?? "").split("-").pop())
  if (!Number.isSafeInteger(lastNumber)) return Either.left(`cannot compute the next GTID of "${executed}"`)
  return Either.right(`${tokens[0]}:${lastNumber + 1}`)
}

/** Every GTID of a set, `uuid:n` each (orchestrator `OracleGtidSet.Explode`); refuses more than `limit`. */
export const explode = (set: string, limit: number): Either.Either<ReadonlyArray<string>, string> =>
  Either.flatMap(parseSet(set), (parsed) => {
    const n = Gtid.count(parsed)
    if (n > limit) return Either.left(`${n} GTIDs in "${set}": more than ${limit} empty transactions to inject`)
    const out: Array<string> = []
    for (const [source, intervals] of parsed) {
      for (const iv of intervals) for (let x = iv.start; x <= iv.end; x++) out.push(`${source}:${x}`)
    }
    return Either.right(out)
  })

/** `a − b` as GTID set text (the server's GTID_SUBTRACT, done here). */
export const subtract = (a: string, b: string): Either.Either<string, string> =>
  Either.flatMap(parseSet(a), (x) => Either.map(parseSet(b), (y) => Gtid.format(Gtid.subtract(x, y))))

/**
 * orchestrator `LocateErrantGTID`: the binary logs holding the errant GTIDs, found from each binlog's
 * Previous_gtids (what was executed before it). `binlogs` in SHOW BINARY LOGS order.
 */
export const locateErrant = (
  key: Key.InstanceKey,
  errant: string,
  purged: string,
  binlogs: ReadonlyArray<{ readonly name: string; readonly previousGtids: string }>
): Either.Either<ReadonlyArray<string>, string> => {
  const k = Key.format(key)
  if (errant === "") return Either.left(`locate-errant-gtid: no errant-gtid on ${k}`)
  const parsedErrant = parseSet(errant)
  const parsedPurged = parseSet(purged)
  if (Either.isLeft(parsedErrant)) return Either.left(parsedErrant.left)
  if (Either.isLeft(parsedPurged)) return Either.left(parsedPurged.left)
  const notPurged = Gtid.subtract(parsedErrant.right, parsedPurged.right)
  if (!Gtid.equals(notPurged, parsedErrant.right)) {
    return Either.left(`locate-errant-gtid: ${Gtid.format(Gtid.intersect(parsedErrant.right, parsedPurged.right))} is already purged on ${k}`)
  }
  const found: Array<string> = []
  let search = parsedErrant.right
  for (let i = 0; i < binlogs.length && !Gtid.isEmpty(search); i++) {
    const previous = parseSet(binlogs[i]!.previousGtids)
    if (Either.isLeft(previous)) return Either.left(previous.left)
    const rest = Gtid.subtract(search, previous.right)
    if (!Gtid.equals(rest, search)) {
      // Executed before binlog i: written in binlog i-1 (i > 0, as nothing errant is purged).
      if (i > 0) found.push(binlogs[i - 1]!.name)
      search = rest
    }
  }
  if (!Gtid.isEmpty(search) && binlogs.length > 0) found.push(binlogs[binlogs.length - 1]!.name)
  return Either.right(found)
}

// ---- can-replicate-from ------------------------------------------------------------------------------------------

/**
 * orchestrator `Instance.CanReplicateFrom`, with its messages: the reason `replica` cannot replicate from
 * `source`, or null. (`VerifyReplicationFilters`, off by default, is not checked.)
 */
export const cannotReplicateFrom = (replica: Instance, source: Instance, reasonableLagSeconds: number): string | null => {
  const k = Key.format(replica.key)
  const src = Key.format(source.key)
  if (Key.equals(replica.key, source.key)) return `instance cannot replicate from itself: ${k}`
  if (!source.logBinEnabled) return `instance does not have binary logs enabled: ${src}`
  if (Model.isReplica(source) && !source.logReplicationUpdatesEnabled) {
    return `instance does not have log_slave_updates enabled: ${src}`
  }
  if (isSmallerMajorVersion(replica.version, source.version) && !isBinlogServer(replica)) {
    return `instance ${k} has version ${replica.version}, which is lower than ${source.version} on ${src} `
  }
  const relaysItsLogs = replica.logBinEnabled && replica.logReplicationUpdatesEnabled
  if (relaysItsLogs && isSmallerBinlogFormat(replica.binlogFormat, source.binlogFormat)) {
    return `Cannot replicate from ${source.binlogFormat} binlog format on ${src} to ${replica.binlogFormat} on ${k}`
  }
  if (replica.serverId === source.serverId && !isBinlogServer(replica)) {
    return `Identical server id: ${src}, ${k} both have ${replica.serverId}`
  }
  if (replica.serverUuid !== "" && replica.serverUuid === source.serverUuid && !isBinlogServer(replica)) {
    return `Identical server UUID: ${src}, ${k} both have ${replica.serverUuid}`
  }
  const delay = Model.sqlDelay(source)
  if (Model.sqlDelay(replica) < delay && delay > reasonableLagSeconds) {
    return `${src} has higher SQL_Delay (${delay} seconds) than ${k} does (${Model.sqlDelay(replica)} seconds)`
  }
  return null
}

/**
 * orchestrator `CheckMoveViaGTID`: both speak the same GTID (the replica uses it, the source supports it), and
 * for MySQL GTID the source has not purged anything the replica lacks.
 */
export const cannotMoveViaGtid = (replica: Instance, source: Instance): string | null => {
  const oracle = Model.usingOracleGtid(replica) && Model.supportsOracleGtid(source)
  const mariadb = Model.usingMariaDbGtid(replica) && (source.flavor === "MariaDB" || /mariadb/i.test(source.version))
  if (!oracle && !mariadb) {
    return `Instances ${Key.format(replica.key)}, ${Key.format(source.key)} not GTID compatible or not using GTID`
  }
  if (oracle) {
    const executed = replica.executedGtidSet !== "" ? replica.executedGtidSet : replica.replication?.executedGtidSet ?? ""
    const missing = subtract(source.gtidPurged, executed)
    if (Either.isLeft(missing)) return missing.left
    if (missing.right !== "") return `Instance ${Key.format(source.key)} has purged GTID entries not found on ${Key.format(replica.key)}`
  }
  return null
}
