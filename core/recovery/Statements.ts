/**
 * The statements recovery and refactoring send, per dialect, built client-side with escaping
 * (core/discovery/TopologySql.ts `sql`): CHANGE MASTER cannot be a server-side prepared statement on MariaDB
 * (mariadb.md §3), and `MASTER_USE_GTID` / `SOURCE_AUTO_POSITION` are keywords chosen here, never input.
 */
import { raw, sql, type Statement } from "../discovery/TopologySql.js"
import type { Dialect, GtidKind } from "./Step.js"

const replica = (d: Dialect) => (d === "mysql-replica" ? "REPLICA" : "SLAVE")

export const stopReplication = (d: Dialect): Statement => sql`STOP ${raw(replica(d))}`
export const startReplication = (d: Dialect): Statement => sql`START ${raw(replica(d))}`
export const startSqlThread = (d: Dialect): Statement => sql`START ${raw(replica(d))} SQL_THREAD`
export const stopIoThread = (d: Dialect): Statement => sql`STOP ${raw(replica(d))} IO_THREAD`
export const resetReplicationAll = (d: Dialect): Statement => sql`RESET ${raw(replica(d))} ALL`
export const showReplicationStatus = (d: Dialect): Statement => sql`SHOW ${raw(replica(d))} STATUS`
export const setReadOnly = (readOnly: boolean): Statement => sql`SET GLOBAL read_only = ${readOnly ? raw("1") : raw("0")}`

/** This server's applied position as GTID text: MariaDB `gtid_slave_pos` / MySQL `gtid_executed`. */
export const appliedPosition = (gtid: GtidKind): Statement =>
  gtid === "mariadb" ? sql`SELECT @@GLOBAL.gtid_slave_pos AS pos` : sql`SELECT @@GLOBAL.gtid_executed AS pos`

/** Everything this server has written to its binlog (a master's position for its replicas to reach). */
export const binlogPosition = (gtid: GtidKind): Statement =>
  gtid === "mariadb" ? sql`SELECT @@GLOBAL.gtid_binlog_pos AS pos` : sql`SELECT @@GLOBAL.gtid_executed AS pos`

/** Waits until this server has applied `pos`; the result column `r` is 0 when reached. */
export const waitForPosition = (gtid: GtidKind, pos: string, timeoutSeconds: number): Statement =>
  gtid === "mariadb"
    ? sql`SELECT MASTER_GTID_WAIT(${pos}, ${timeoutSeconds}) AS r`
    : sql`SELECT WAIT_FOR_EXECUTED_GTID_SET(${pos}, ${timeoutSeconds}) AS r`

export interface ChangeMasterTarget {
  readonly host: string
  readonly port: number
  readonly useGtid: "slave_pos" | "current_pos"
  /** Set only when the server has no replication credentials of its own (a former master). */
  readonly credentials: { readonly user: string; readonly password: string } | null
}

/**
 * CHANGE MASTER by GTID. MariaDB: `MASTER_USE_GTID=slave_pos` (mariadb.md §5 step 5); MySQL: auto-position.
 * User and password are kept from the previous CHANGE MASTER unless given.
 */
export const changeMaster = (d: Dialect, t: ChangeMasterTarget): Statement => {
  const creds = t.credentials
  if (d === "mariadb") {
    const gtid = raw(t.useGtid === "current_pos" ? "current_pos" : "slave_pos")
    return creds === null
      ? sql`CHANGE MASTER TO MASTER_HOST=${t.host}, MASTER_PORT=${t.port}, MASTER_USE_GTID=${gtid}`
      : sql`CHANGE MASTER TO MASTER_HOST=${t.host}, MASTER_PORT=${t.port}, MASTER_USER=${creds.user}, MASTER_PASSWORD=${creds.password}, MASTER_USE_GTID=${gtid}`
  }
  if (d === "mysql-replica") {
    return creds === null
      ? sql`CHANGE REPLICATION SOURCE TO SOURCE_HOST=${t.host}, SOURCE_PORT=${t.port}, SOURCE_AUTO_POSITION=1`
      : sql`CHANGE REPLICATION SOURCE TO SOURCE_HOST=${t.host}, SOURCE_PORT=${t.port}, SOURCE_USER=${creds.user}, SOURCE_PASSWORD=${creds.password}, SOURCE_AUTO_POSITION=1`
  }
  return creds === null
    ? sql`CHANGE MASTER TO MASTER_HOST=${t.host}, MASTER_PORT=${t.port}, MASTER_AUTO_POSITION=1`
    : sql`CHANGE MASTER TO MASTER_HOST=${t.host}, MASTER_PORT=${t.port}, MASTER_USER=${creds.user}, MASTER_PASSWORD=${creds.password}, MASTER_AUTO_POSITION=1`
}

/** orchestrator `DetachReplicaMasterHost`: the master host prefixed with `//` (undone by reattach). */
export const detachMasterHost = (d: Dialect, host: string, port: number): Statement =>
  d === "mysql-replica"
    ? sql`CHANGE REPLICATION SOURCE TO SOURCE_HOST=${`//${host}`}, SOURCE_PORT=${port}`
    : sql`CHANGE MASTER TO MASTER_HOST=${`//${host}`}, MASTER_PORT=${port}`
