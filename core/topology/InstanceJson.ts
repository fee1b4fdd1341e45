/**
 * Orchestrator's Instance JSON (`go/inst/instance.go` `Instance` + `MarshalJSON`, spec orchestrator-compat
 * §2.13), produced from the domain model plus what orchestrator joins in when it reads
 * `database_instance` (`readInstancesByCondition` / `readInstanceRow` in `go/inst/instance_dao.go`):
 * candidate promotion rule, downtime, and the "now"-relative flags.
 *
 * Go encoding facts reproduced here:
 * - field order = struct field order (the anonymous-embedding trick in `MarshalJSON` flattens it);
 * - `sql.NullInt64` → `{"Int64":n,"Valid":bool}` (Int64 is 0 when not valid);
 * - `time.Duration` → integer nanoseconds (`ElapsedDowntime`, `LastDiscoveryLatency`);
 * - `InstanceKeyMap` → array of keys sorted by hostname then port, `[]` when empty;
 * - `BinlogType` → 0 (binary log) / 1 (relay log); `ReplicationThreadState` → -1/0/1/2;
 * - `MarshalJSON` copies the new names onto the old ones: `SlaveHosts` = `Replicas`, `SlaveLagSeconds` =
 *   `ReplicationLagSeconds`, `LogSlaveUpdatesEnabled` = `LogReplicationUpdatesEnabled`,
 *   `Slave_SQL_Running` = `ReplicationSQLThreadRuning`, `Slave_IO_Running` = `ReplicationIOThreadRuning`;
 * - `LastSQLError`/`LastIOError` are stored as `strconv.QuoteToASCII(text)` with `""` turned into the empty
 *   string, so a non-empty error is served *with* surrounding double quotes;
 * - `MasterUUID` is read with `GetStringD("Master_UUID", "No")`: "No" on a MariaDB replica (no column);
 * - strings are escaped like `encoding/json`: `<`, `>`, `&`, U+2028, U+2029 as `\uXXXX`, control characters
 *   other than \n \r \t as `\u00XX` (see `stringify`).
 */
import * as Model from "./Instance.js"
import type { Instance } from "./Instance.js"
import type { InstanceKey } from "./InstanceKey.js"
import * as Key from "./InstanceKey.js"

export interface KeyJson {
  readonly Hostname: string
  readonly Port: number
}

export interface CoordinatesJson {
  readonly LogFile: string
  readonly LogPos: number
  readonly Type: number
}

export interface NullInt64Json {
  readonly Int64: number
  readonly Valid: boolean
}

/** The exact shape and field order of orchestrator's Instance JSON. */
export interface InstanceJson {
  readonly Key: KeyJson
  readonly InstanceAlias: string
  readonly Uptime: number
  readonly ServerID: number
  readonly ServerUUID: string
  readonly Version: string
  readonly VersionComment: string
  readonly FlavorName: string
  readonly ReadOnly: boolean
  readonly Binlog_format: string
  readonly BinlogRowImage: string
  readonly LogBinEnabled: boolean
  readonly LogSlaveUpdatesEnabled: boolean
  readonly LogReplicationUpdatesEnabled: boolean
  readonly SelfBinlogCoordinates: CoordinatesJson
  readonly MasterKey: KeyJson
  readonly MasterUUID: string
  readonly AncestryUUID: string
  readonly IsDetachedMaster: boolean
  readonly Slave_SQL_Running: boolean
  readonly ReplicationSQLThreadRuning: boolean
  readonly Slave_IO_Running: boolean
  readonly ReplicationIOThreadRuning: boolean
  readonly ReplicationSQLThreadState: number
  readonly ReplicationIOThreadState: number
  readonly HasReplicationFilters: boolean
  readonly GTIDMode: string
  readonly SupportsOracleGTID: boolean
  readonly UsingOracleGTID: boolean
  readonly UsingMariaDBGTID: boolean
  readonly UsingPseudoGTID: boolean
  readonly ReadBinlogCoordinates: CoordinatesJson
  readonly ExecBinlogCoordinates: CoordinatesJson
  readonly IsDetached: boolean
  readonly RelaylogCoordinates: CoordinatesJson
  readonly LastSQLError: string
  readonly LastIOError: string
  readonly SecondsBehindMaster: NullInt64Json
  readonly SQLDelay: number
  readonly ExecutedGtidSet: string
  readonly GtidPurged: string
  readonly GtidErrant: string
  readonly SlaveLagSeconds: NullInt64Json
  readonly ReplicationLagSeconds: NullInt64Json
  readonly SlaveHosts: ReadonlyArray<KeyJson>
  readonly Replicas: ReadonlyArray<KeyJson>
  readonly ClusterName: string
  readonly SuggestedClusterAlias: string
  readonly DataCenter: string
  readonly Region: string
  readonly PhysicalEnvironment: string
  readonly ReplicationDepth: number
  readonly IsCoMaster: boolean
  readonly HasReplicationCredentials: boolean
  readonly ReplicationCredentialsAvailable: boolean
  readonly SemiSyncAvailable: boolean
  readonly SemiSyncPriority: number
  readonly SemiSyncMasterEnabled: boolean
  readonly SemiSyncReplicaEnabled: boolean
  readonly SemiSyncMasterTimeout: number
  readonly SemiSyncMasterWaitForReplicaCount: number
  readonly SemiSyncMasterStatus: boolean
  readonly SemiSyncMasterClients: number
  readonly SemiSyncReplicaStatus: boolean
  readonly LastSeenTimestamp: string
  readonly IsLastCheckValid: boolean
  readonly IsUpToDate: boolean
  readonly IsRecentlyChecked: boolean
  readonly SecondsSinceLastSeen: NullInt64Json
  readonly CountMySQLSnapshots: number
  readonly IsCandidate: boolean
  readonly PromotionRule: string
  readonly IsDowntimed: boolean
  readonly DowntimeReason: string
  readonly DowntimeOwner: string
  readonly DowntimeEndTimestamp: string
  readonly ElapsedDowntime: number
  readonly UnresolvedHostname: string
  readonly AllowTLS: boolean
  readonly Problems: ReadonlyArray<string>
  readonly LastDiscoveryLatency: number
  readonly ReplicationGroupName: string
  readonly ReplicationGroupIsSinglePrimary: boolean
  readonly ReplicationGroupMemberState: string
  readonly ReplicationGroupMemberRole: string
  readonly ReplicationGroupMembers: ReadonlyArray<KeyJson>
  readonly ReplicationGroupPrimaryInstanceKey: KeyJson
}

/** A `database_instance_downtime` row (replicated through raft). */
export interface DowntimeInfo {
  readonly reason: string
  readonly owner: string
  readonly beginAt: number
  /** null = no end; orchestrator then reports it not downtimed (`ifnull(end_timestamp, now()) > now()`). */
  readonly endAt: number | null
}

/** A `candidate_database_instance` row. */
export interface CandidateInfo {
  readonly promotionRule: Model.PromotionRule
  /** `last_suggested`; the rule counts only while a suggestion exists. */
  readonly lastSuggestedAt: number | null
}

export type TimestampFormat = "sql" | "rfc3339"

export interface JsonContext {
  /** Evaluation time, epoch ms (orchestrator evaluates `unix_timestamp()`/`now()` in the backend query). */
  readonly now: number
  /** Config `InstancePollSeconds` (default 5). */
  readonly instancePollSeconds: number
  /** Config `ReasonableReplicationLagSeconds` (default 10). */
  readonly reasonableReplicationLagSeconds: number
  readonly downtime?: DowntimeInfo | null
  readonly candidate?: CandidateInfo | null
  /**
   * How the backend renders timestamps: MySQL backends give `2006-01-02 15:04:05`, SQLite gives
   * RFC 3339 `2006-01-02T15:04:05Z` (spec §2.1 measured both). Default "sql". Rendered in UTC.
   */
  readonly timestampFormat?: TimestampFormat
}

const keyJson = (k: InstanceKey | null): KeyJson =>
  k === null ? { Hostname: "", Port: 0 } : { Hostname: k.hostname, Port: k.port }

const coordinatesJson = (c: Model.BinlogCoordinates): CoordinatesJson => ({
  LogFile: c.logFile,
  LogPos: c.logPos,
  Type: c.type === "binary" ? 0 : 1
})

const nullInt64 = (n: number | null): NullInt64Json =>
  n === null ? { Int64: 0, Valid: false } : { Int64: n, Valid: true }

const threadStateNumber = (s: Model.ThreadState): number =>
  s === "none" ? -1 : s === "stopped" ? 0 : s === "running" ? 1 : 2

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** Renders an epoch-ms timestamp as the backend would; "" for null (a NULL column read with GetString). */
export const formatTimestamp = (at: number | null, format: TimestampFormat = "sql"): string => {
  if (at === null) return ""
  const d = new Date(at)
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
  return format === "sql" ? `${date} ${time}` : `${date}T${time}Z`
}

/** `unix_timestamp(a) - unix_timestamp(b)`: whole seconds between two epoch-ms instants. */
const secondsBetween = (later: number, earlier: number): number => Math.floor(later / 1000) - Math.floor(earlier / 1000)

/**
 * Go's `strconv.QuoteToASCII`: double-quoted, with `\a \b \f \n \r \t \v \\ \"` escapes, other control
 * characters as `\xHH`, and every non-ASCII code point as `\uXXXX` or `\UXXXXXXXX`. Lone surrogates (invalid
 * UTF-8 in Go) become `\ufffd`.
 */
export const goQuoteToAscii = (s: string): string => {
  let out = "\""
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    switch (ch) {
      case "\u0007":
        out += "\\a"
        continue
      case "\b":
        out += "\\b"
        continue
      case "\f":
        out += "\\f"
        continue
      case "\n":
        out += "\\n"
        continue
      case "\r":
        out += "\\r"
        continue
      case "\t":
        out += "\\t"
        continue
      case "\v":
        out += "\\v"
        continue
      case "\\":
        out += "\\\\"
        continue
      case "\"":
        out += "\\\""
        continue
    }
    if (cp >= 0xd800 && cp <= 0xdfff) out += "\\ufffd"
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, "0")}`
    else if (cp < 0x80) out += ch
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, "0")}`
    else out += `\\U${cp.toString(16).padStart(8, "0")}`
  }
  return out + "\""
}

/** How orchestrator stores `Last_SQL_Error`/`Last_IO_Error`: quoted, except that `""` becomes "". */
export const storedErrorText = (raw: string): string => (raw === "" ? "" : goQuoteToAscii(raw))

export interface DerivedState {
  readonly isLastCheckValid: boolean
  readonly isUpToDate: boolean
  readonly isRecentlyChecked: boolean
  readonly secondsSinceLastSeen: number | null
}

/** The flags `readInstancesByCondition` computes in SQL relative to "now". */
export const derivedState = (i: Instance, ctx: Pick<JsonContext, "now" | "instancePollSeconds">): DerivedState => {
  const sinceChecked = i.lastCheckedAt === null ? null : secondsBetween(ctx.now, i.lastCheckedAt)
  return {
    // `ifnull(last_checked <= last_seen, 0)`
    isLastCheckValid: i.lastCheckedAt !== null && i.lastSeenAt !== null && i.lastCheckedAt <= i.lastSeenAt,
    isUpToDate: sinceChecked !== null && sinceChecked <= ctx.instancePollSeconds,
    isRecentlyChecked: sinceChecked !== null && sinceChecked <= ctx.instancePollSeconds * 5,
    secondsSinceLastSeen: i.lastSeenAt === null ? null : secondsBetween(ctx.now, i.lastSeenAt)
  }
}

/**
 * Orchestrator's `Problems` (end of `readInstanceRow`): at most one of last_check_invalid /
 * not_recently_checked / not_replicating / replication_lag, then errant_gtid, then
 * group_replication_member_not_online.
 */
export const problems = (
  i: Instance,
  ctx: Pick<JsonContext, "now" | "instancePollSeconds" | "reasonableReplicationLagSeconds">
): ReadonlyArray<string> => {
  const d = derivedState(i, ctx)
  const out: Array<string> = []
  const lag = i.replicationLagSeconds
  if (!d.isLastCheckValid) out.push("last_check_invalid")
  else if (!d.isRecentlyChecked) out.push("not_recently_checked")
  else if (Model.replicationThreadsExist(i) && !Model.replicaRunning(i)) out.push("not_replicating")
  else if (lag !== null && Math.abs(lag - Model.sqlDelay(i)) > ctx.reasonableReplicationLagSeconds) {
    out.push("replication_lag")
  }
  if (i.gtidErrant !== "") out.push("errant_gtid")
  if (i.group !== null && i.group.name !== "" && i.group.memberState !== "ONLINE") {
    out.push("group_replication_member_not_online")
  }
  return out
}

/** `ifnull(database_instance_downtime.end_timestamp, now()) > now()` with an existing downtime row. */
export const isDowntimed = (d: DowntimeInfo | null | undefined, now: number): boolean =>
  d !== null && d !== undefined && d.endAt !== null && d.endAt > now

/** Builds orchestrator's Instance JSON object (keys in orchestrator's order). */
export const encode = (i: Instance, ctx: JsonContext): InstanceJson => {
  const r = i.replication
  const d = derivedState(i, ctx)
  const fmt = ctx.timestampFormat ?? "sql"
  const downtime = ctx.downtime ?? null
  const candidate = ctx.candidate ?? null
  const sqlState = Model.sqlThreadState(i)
  const ioState = Model.ioThreadState(i)
  const replicas = Key.sortedUnique(i.replicas).map(keyJson)
  const lag = nullInt64(i.replicationLagSeconds)
  const logReplicaUpdates = i.logReplicationUpdatesEnabled
  const sqlRunning = sqlState === "running"
  const ioRunning = ioState === "running"
  return {
    Key: keyJson(i.key),
    InstanceAlias: i.instanceAlias,
    Uptime: i.uptime,
    ServerID: i.serverId,
    ServerUUID: i.serverUuid,
    Version: i.version,
    VersionComment: i.versionComment,
    FlavorName: i.flavor,
    ReadOnly: i.readOnly,
    Binlog_format: i.binlogFormat,
    BinlogRowImage: i.binlogRowImage,
    LogBinEnabled: i.logBinEnabled,
    LogSlaveUpdatesEnabled: logReplicaUpdates,
    LogReplicationUpdatesEnabled: logReplicaUpdates,
    SelfBinlogCoordinates: coordinatesJson(i.selfBinlogCoordinates),
    MasterKey: keyJson(Model.masterKey(i)),
    MasterUUID: r === null ? "" : r.masterUuid ?? "No",
    AncestryUUID: i.ancestryUuid,
    IsDetachedMaster: Model.isDetachedMaster(i),
    Slave_SQL_Running: sqlRunning,
    ReplicationSQLThreadRuning: sqlRunning,
    Slave_IO_Running: ioRunning,
    ReplicationIOThreadRuning: ioRunning,
    ReplicationSQLThreadState: threadStateNumber(sqlState),
    ReplicationIOThreadState: threadStateNumber(ioState),
    HasReplicationFilters: Model.hasReplicationFilters(i),
    GTIDMode: i.gtidMode,
    SupportsOracleGTID: Model.supportsOracleGtid(i),
    UsingOracleGTID: Model.usingOracleGtid(i),
    UsingMariaDBGTID: Model.usingMariaDbGtid(i),
    UsingPseudoGTID: i.usingPseudoGtid,
    ReadBinlogCoordinates: coordinatesJson(r?.readBinlogCoordinates ?? Model.emptyCoordinates("binary")),
    ExecBinlogCoordinates: coordinatesJson(r?.execBinlogCoordinates ?? Model.emptyCoordinates("binary")),
    IsDetached: Model.isDetached(i),
    // The API serves instances read back by readInstanceRow, which always sets Type = RelayLog.
    RelaylogCoordinates: coordinatesJson(r?.relaylogCoordinates ?? Model.emptyCoordinates("relay")),
    LastSQLError: storedErrorText(r?.lastSqlError ?? ""),
    LastIOError: storedErrorText(r?.lastIoError ?? ""),
    SecondsBehindMaster: nullInt64(Model.secondsBehindMaster(i)),
    SQLDelay: Model.sqlDelay(i),
    ExecutedGtidSet: i.executedGtidSet,
    GtidPurged: i.gtidPurged,
    GtidErrant: i.gtidErrant,
    SlaveLagSeconds: lag,
    ReplicationLagSeconds: lag,
    SlaveHosts: replicas,
    Replicas: replicas,
    ClusterName: i.clusterName,
    SuggestedClusterAlias: i.suggestedClusterAlias,
    DataCenter: i.dataCenter,
    Region: i.region,
    PhysicalEnvironment: i.physicalEnvironment,
    ReplicationDepth: i.replicationDepth,
    IsCoMaster: i.isCoMaster,
    HasReplicationCredentials: Model.hasReplicationCredentials(i),
    ReplicationCredentialsAvailable: i.replicationCredentialsAvailable,
    SemiSyncAvailable: i.semiSync.available,
    SemiSyncPriority: i.semiSync.priority,
    SemiSyncMasterEnabled: i.semiSync.masterEnabled,
    SemiSyncReplicaEnabled: i.semiSync.replicaEnabled,
    SemiSyncMasterTimeout: i.semiSync.masterTimeoutMs,
    SemiSyncMasterWaitForReplicaCount: i.semiSync.masterWaitForReplicaCount,
    SemiSyncMasterStatus: i.semiSync.masterStatus,
    SemiSyncMasterClients: i.semiSync.masterClients,
    SemiSyncReplicaStatus: i.semiSync.replicaStatus,
    LastSeenTimestamp: formatTimestamp(i.lastSeenAt, fmt),
    IsLastCheckValid: d.isLastCheckValid,
    IsUpToDate: d.isUpToDate,
    IsRecentlyChecked: d.isRecentlyChecked,
    SecondsSinceLastSeen: nullInt64(d.secondsSinceLastSeen),
    CountMySQLSnapshots: i.countMySQLSnapshots,
    // `last_suggested is not null and promotion_rule in ('must', 'prefer')`
    IsCandidate: candidate !== null && candidate.lastSuggestedAt !== null &&
      (candidate.promotionRule === "must" || candidate.promotionRule === "prefer"),
    // `ifnull(nullif(promotion_rule, ''), 'neutral')`
    PromotionRule: candidate?.promotionRule ?? "neutral",
    IsDowntimed: isDowntimed(downtime, ctx.now),
    DowntimeReason: downtime?.reason ?? "",
    DowntimeOwner: downtime?.owner ?? "",
    DowntimeEndTimestamp: formatTimestamp(downtime?.endAt ?? null, fmt),
    // `ifnull(unix_timestamp() - unix_timestamp(begin_timestamp), 0)` seconds, as a Duration.
    ElapsedDowntime: downtime === null ? 0 : secondsBetween(ctx.now, downtime.beginAt) * 1_000_000_000,
    UnresolvedHostname: i.unresolvedHostname,
    AllowTLS: r?.sslAllowed ?? false,
    Problems: problems(i, ctx),
    LastDiscoveryLatency: Math.round(i.lastDiscoveryLatencyMs * 1_000_000),
    ReplicationGroupName: i.group?.name ?? "",
    ReplicationGroupIsSinglePrimary: i.group?.singlePrimary ?? false,
    ReplicationGroupMemberState: i.group?.memberState ?? "",
    ReplicationGroupMemberRole: i.group?.memberRole ?? "",
    ReplicationGroupMembers: Key.sortedUnique(i.group?.members ?? []).map(keyJson),
    ReplicationGroupPrimaryInstanceKey: keyJson(i.group?.primaryKey ?? null)
  }
}

// ---- Go encoding/json text -------------------------------------------------------------------------------

export type JsonValue =
  | string
  | number
  | boolean
  | null
  | ReadonlyArray<JsonValue>
  | { readonly [k: string]: JsonValue }

const hex4 = (n: number) => `\\u${n.toString(16).padStart(4, "0")}`

/**
 * A JSON string escaped like Go's `encoding/json` with HTML escaping on (the default for `json.Marshal`):
 * `"` and `\` escaped, \n \r \t short, other control characters `\u00XX` (Go before 1.22 has no `\b`/`\f`
 * short forms), `<` `>` `&` U+2028 U+2029 as `\uXXXX`, lone surrogates (invalid UTF-8) as `\ufffd`.
 */
export const goJsonString = (s: string): string => {
  let out = "\""
  for (let idx = 0; idx < s.length; idx++) {
    const c = s.charCodeAt(idx)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(idx + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[idx]! + s[idx + 1]!
        idx++
      } else {
        out += "\\ufffd"
      }
      continue
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += "\\ufffd"
      continue
    }
    if (c === 0x22) out += "\\\""
    else if (c === 0x5c) out += "\\\\"
    else if (c === 0x0a) out += "\\n"
    else if (c === 0x0d) out += "\\r"
    else if (c === 0x09) out += "\\t"
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += hex4(c)
    else out += s[idx]!
  }
  return out + "\""
}

/** Compact JSON text as Go's `json.Marshal` writes it (keys in insertion order). */
export const stringify = (value: JsonValue): string => {
  if (value === null) return "null"
  if (typeof value === "string") return goJsonString(value)
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null"
  if (typeof value === "boolean") return value ? "true" : "false"
  if (Array.isArray(value)) return `[${(value as ReadonlyArray<JsonValue>).map(stringify).join(",")}]`
  const obj = value as { readonly [k: string]: JsonValue }
  return `{${Object.keys(obj).map((k) => `${goJsonString(k)}:${stringify(obj[k]!)}`).join(",")}}`
}

/** The HTTP body orchestrator serves for one instance. */
export const toJsonText = (i: Instance, ctx: JsonContext): string => stringify(encode(i, ctx) as unknown as JsonValue)
