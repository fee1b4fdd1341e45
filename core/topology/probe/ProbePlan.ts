/**
 * The probe plan: which statements to send to one server, grouped into round trips.
 *
 * Orchestrator (`ReadTopologyInstanceBufferable`, spec §6) sends about ten statements one by one, some of
 * them concurrently over a pool. Here they are batched: statements that cannot fail on a healthy server
 * with orchestrator's documented grant go into one multi-statement text query per round.
 *
 *   cold probe (version unknown)        round 1 `discovery`  ─► round 2 `flavour`  [─► round 3 `optional`]
 *   warm probe (version from last time) round 1 `discovery+flavour`               [─► round 2 `optional`]
 *
 * - `discovery` is version-agnostic: the global variables every flavour has, Uptime, semi-sync variables
 *   and status.
 * - `flavour` depends on the version read in `discovery`: GTID variables, binlog status, replica status,
 *   the process-list replicas, and (Oracle MySQL >= 8.0) the group-replication hint.
 * - `optional` holds statements that can fail for reasons that must not fail the probe (orchestrator
 *   ignores their errors too): SHOW SLAVE HOSTS / SHOW REPLICAS (privileges on MariaDB 10.5.2+), the
 *   group-replication members (SELECT on performance_schema), the replication-credentials table. It is
 *   empty for most servers.
 *
 * A healthy MariaDB server or MySQL master is probed in 2 round trips (1 when warm); a MySQL replica with
 * its master info in a table in 3 (2 warm); a group-replication member in 3 (2 warm).
 *
 * Batches and errors: a multi-statement query stops at the first failing statement and mysql2 then
 * reports only the error (`multipleStatements: true` returns an array of result sets on success). When a
 * mandatory batch fails, the prober re-runs that round statement by statement to learn which one failed
 * (`ProbeRound.statements` keeps them separable); an `optional` round's failures are ignored.
 */
import * as Sql from "./ProbeSql.js"
import * as ServerVersion from "./ServerVersion.js"

export type StatementId =
  | "globals"
  | "uptime"
  | "semiSyncVariables"
  | "semiSyncStatus"
  | "flavourVariables"
  | "binlogStatus"
  | "replicaStatus"
  | "processlistReplicas"
  | "groupReplicationName"
  | "replicaHosts"
  | "groupMembers"
  | "replicationCredentials"

export interface ProbeStatement {
  readonly id: StatementId
  readonly sql: string
}

export type RoundKind = "discovery" | "flavour" | "discovery+flavour" | "optional"

export interface ProbeRound {
  readonly kind: RoundKind
  readonly statements: ReadonlyArray<ProbeStatement>
  /** Errors in this round make the probe fail (orchestrator's `goto Cleanup`) only for `required` ids. */
  readonly tolerateErrors: boolean
}

export interface PlanOptions {
  /** Orchestrator `DiscoverByShowSlaveHosts` (default false): also ask SHOW SLAVE HOSTS / SHOW REPLICAS. */
  readonly discoverByShowSlaveHosts: boolean
  /**
   * Orchestrator `ReplicationCredentialsQuery` is set: credentials are then known to be available and the
   * master-info table is not read.
   */
  readonly hasReplicationCredentialsQuery: boolean
}

export const defaultPlanOptions: PlanOptions = {
  discoverByShowSlaveHosts: false,
  hasReplicationCredentialsQuery: false
}

/** Statements whose failure fails the probe. `globals` failing = orchestrator's "not even partial success". */
export const requiredStatements: ReadonlySet<StatementId> = new Set<StatementId>(["globals", "replicaStatus"])

const discoveryStatements: ReadonlyArray<ProbeStatement> = [
  { id: "globals", sql: Sql.SELECT_GLOBALS },
  { id: "uptime", sql: Sql.SHOW_STATUS_UPTIME },
  { id: "semiSyncVariables", sql: Sql.SHOW_VARIABLES_SEMI_SYNC },
  { id: "semiSyncStatus", sql: Sql.SHOW_STATUS_SEMI_SYNC }
]

/** Round 1 of a cold probe. */
export const discoveryRound: ProbeRound = { kind: "discovery", statements: discoveryStatements, tolerateErrors: false }

/** The flavour's variables statement, or undefined for servers too old to have GTIDs (MySQL < 5.6). */
export const flavourVariablesSql = (v: ServerVersion.ServerVersion): string | undefined => {
  if (v.family === "mariadb") return Sql.SELECT_MARIADB_VARIABLES
  if (!ServerVersion.hasOracleGtid(v)) return undefined
  if (ServerVersion.hasReplicaVariableNames(v)) return Sql.SELECT_MYSQL8026_VARIABLES
  if (!ServerVersion.readsMasterInfoRepository(v)) return Sql.SELECT_MYSQL8023_VARIABLES
  if (ServerVersion.hasSuperReadOnly(v)) return Sql.SELECT_MYSQL57_VARIABLES
  return Sql.SELECT_MYSQL56_VARIABLES
}

export const binlogStatusSql = (v: ServerVersion.ServerVersion): string =>
  ServerVersion.hasBinaryLogStatus(v) ? Sql.SHOW_BINARY_LOG_STATUS : Sql.SHOW_MASTER_STATUS

export const replicaStatusSql = (v: ServerVersion.ServerVersion): string =>
  ServerVersion.hasReplicaStatements(v) ? Sql.SHOW_REPLICA_STATUS : Sql.SHOW_SLAVE_STATUS

export const replicaHostsSql = (v: ServerVersion.ServerVersion): string =>
  ServerVersion.hasReplicaStatements(v) ? Sql.SHOW_REPLICAS : Sql.SHOW_SLAVE_HOSTS

const flavourStatements = (v: ServerVersion.ServerVersion): ReadonlyArray<ProbeStatement> => {
  const out: Array<ProbeStatement> = []
  const vars = flavourVariablesSql(v)
  if (vars !== undefined) out.push({ id: "flavourVariables", sql: vars })
  // SHOW MASTER STATUS returns an empty set when log_bin is off, so it needs no knowledge of log_bin and
  // can be sent in the same round as the variables.
  out.push({ id: "binlogStatus", sql: binlogStatusSql(v) })
  out.push({ id: "replicaStatus", sql: replicaStatusSql(v) })
  out.push({ id: "processlistReplicas", sql: Sql.SELECT_PROCESSLIST_REPLICAS })
  if (ServerVersion.readsGroupReplication(v)) {
    out.push({ id: "groupReplicationName", sql: Sql.SHOW_VARIABLES_GROUP_NAME })
  }
  return out
}

/** Round 2 of a cold probe, chosen from the `version`/`version_comment` read in round 1. */
export const flavourRound = (v: ServerVersion.ServerVersion): ProbeRound => ({
  kind: "flavour",
  statements: flavourStatements(v),
  tolerateErrors: false
})

/**
 * Round 1 of a warm probe: the version is assumed from the previous probe. If the `globals` result shows
 * another version (the server was upgraded or replaced), discard the flavour results and run
 * `flavourRound` for the real version (see `confirmsVersion`).
 */
export const warmRound = (assumed: ServerVersion.ServerVersion): ProbeRound => ({
  kind: "discovery+flavour",
  statements: [...discoveryStatements, ...flavourStatements(assumed)],
  tolerateErrors: false
})

/**
 * True when a warm round's version equals the assumed one, so its flavour results are valid. The statement
 * choice depends only on the version text and family (a Percona server assumed to be Oracle MySQL only adds
 * a harmless group-replication variable lookup).
 */
export const confirmsVersion = (assumed: ServerVersion.ServerVersion, actual: ServerVersion.ServerVersion): boolean =>
  assumed.text === actual.text && assumed.family === actual.family

/** What the optional round depends on, taken from the mandatory rounds' results. */
export interface OptionalFacts {
  /** SHOW SLAVE/REPLICA STATUS returned a row. */
  readonly isReplica: boolean
  /** `@@master_info_repository = 'TABLE'` (or the constant 1 from 8.0.23). */
  readonly masterInfoOnTable: boolean
  /** `group_replication_group_name` is set. */
  readonly groupName: string
}

/**
 * The last, error-tolerant round; `undefined` when there is nothing to ask (most servers).
 *
 * The credentials table is read only for replicas: orchestrator reads it for every Oracle MySQL server,
 * but on a server that is not a replica the answer only matters once it becomes one, and the next probe
 * after the repoint reads it then.
 */
export const optionalRound = (
  v: ServerVersion.ServerVersion,
  facts: OptionalFacts,
  options: PlanOptions = defaultPlanOptions
): ProbeRound | undefined => {
  const out: Array<ProbeStatement> = []
  if (options.discoverByShowSlaveHosts) out.push({ id: "replicaHosts", sql: replicaHostsSql(v) })
  if (ServerVersion.readsGroupReplication(v) && facts.groupName !== "") {
    out.push({ id: "groupMembers", sql: Sql.SELECT_GROUP_MEMBERS })
  }
  const readCredentials = ServerVersion.hasOracleGtid(v) && facts.isReplica && facts.masterInfoOnTable &&
    !options.hasReplicationCredentialsQuery
  if (readCredentials) {
    out.push({ id: "replicationCredentials", sql: Sql.SELECT_REPLICATION_CREDENTIALS })
  }
  return out.length === 0 ? undefined : { kind: "optional", statements: out, tolerateErrors: true }
}

/** One multi-statement text query for a round (statements are constants: nothing is interpolated). */
export const batchSql = (round: ProbeRound): string => round.statements.map((s) => s.sql).join(";\n")

/**
 * The round trips a healthy server needs, for documentation and tests: cold = discovery + flavour
 * (+ optional), warm = 1 (+ optional).
 */
export const roundTrips = (
  v: ServerVersion.ServerVersion,
  facts: OptionalFacts,
  options: PlanOptions = defaultPlanOptions
): { readonly cold: number; readonly warm: number } => {
  const extra = optionalRound(v, facts, options) === undefined ? 0 : 1
  return { cold: 2 + extra, warm: 1 + extra }
}
