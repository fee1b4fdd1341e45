/**
 * Every statement the probe sends, as constants. None takes a parameter, so all of them can go through
 * the text protocol and be batched into one multi-statement COM_QUERY.
 *
 * Columns are aliased where orchestrator scans by position (`select @@global.x, ...`) so the parsers can
 * read by name. The statements themselves follow orchestrator's `ReadTopologyInstanceBufferable`
 * (`go/inst/instance_dao.go`, spec orchestrator-compat §6) with the 8.x replacements of mysql8.md §8.
 */

/**
 * Round 1, any flavour: orchestrator's "partial success" query (hostname, report_host, server_id, version,
 * version_comment, read_only, binlog_format, log_bin) plus `binlog_row_image` (MySQL >= 5.6.2, MariaDB >=
 * 10.1.6) and `report_port`. `log_slave_updates` moved to the flavour query: on MySQL >= 8.0.26 it is a
 * deprecated alias and we read `log_replica_updates` there instead.
 */
export const SELECT_GLOBALS =
  "SELECT @@global.version AS version, @@global.version_comment AS version_comment, " +
  "@@global.hostname AS hostname, IFNULL(@@global.report_host, '') AS report_host, " +
  "@@global.report_port AS report_port, @@global.server_id AS server_id, @@global.read_only AS read_only, " +
  "@@global.binlog_format AS binlog_format, @@global.binlog_row_image AS binlog_row_image, " +
  "@@global.log_bin AS log_bin"

/** Orchestrator: `show global status like 'Uptime'` (works on 5.6+, 8.x, MariaDB). */
export const SHOW_STATUS_UPTIME = "SHOW GLOBAL STATUS LIKE 'Uptime'"

/**
 * Orchestrator: `show global variables like 'rpl_semi_sync_%'`. Gives the `rpl_semi_sync_master_*` /
 * `_slave_*` names (MariaDB built-in, MySQL old plugins) or `rpl_semi_sync_source_*` / `_replica_*`
 * (MySQL >= 8.0.26 new plugins, mysql8.md §3.2). Empty when no plugin is loaded.
 */
export const SHOW_VARIABLES_SEMI_SYNC = "SHOW GLOBAL VARIABLES LIKE 'rpl_semi_sync_%'"

/** Orchestrator: `show global status like 'rpl_semi_sync_%'`. */
export const SHOW_STATUS_SEMI_SYNC = "SHOW GLOBAL STATUS LIKE 'rpl_semi_sync_%'"

/**
 * MariaDB GTID state (mariadb.md §3). Orchestrator itself reads none of these (spec §6: "no query reads
 * gtid_current_pos"), but they cost nothing in the same round trip and recovery will need them.
 * `log_replica_updates` is unknown on MariaDB 10.11 (ERROR 1193), hence `log_slave_updates`.
 */
export const SELECT_MARIADB_VARIABLES =
  "SELECT @@global.gtid_current_pos AS gtid_current_pos, @@global.gtid_slave_pos AS gtid_slave_pos, " +
  "@@global.gtid_binlog_pos AS gtid_binlog_pos, @@global.gtid_strict_mode AS gtid_strict_mode, " +
  "@@global.gtid_domain_id AS gtid_domain_id, @@global.log_slave_updates AS log_replica_updates"

/**
 * Oracle MySQL / Percona GTID query (orchestrator: `select @@global.gtid_mode, @@global.server_uuid,
 * @@global.gtid_executed, @@global.gtid_purged, @@global.master_info_repository = 'TABLE',
 * @@global.binlog_row_image`) plus `super_read_only` and the log-replica-updates flag, in the three
 * spellings the version gates need.
 */
const mysqlVariables = (masterInfoOnTable: string, superReadOnly: string, logReplicaUpdates: string): string =>
  "SELECT @@global.gtid_mode AS gtid_mode, @@global.server_uuid AS server_uuid, " +
  "@@global.gtid_executed AS gtid_executed, @@global.gtid_purged AS gtid_purged, " +
  `${masterInfoOnTable} AS master_info_repository_on_table, ${superReadOnly} AS super_read_only, ` +
  `${logReplicaUpdates} AS log_replica_updates`

/** MySQL 5.7.8 – 8.0.22: the orchestrator query, unchanged names. */
export const SELECT_MYSQL57_VARIABLES = mysqlVariables(
  "@@global.master_info_repository = 'TABLE'",
  "@@global.super_read_only",
  "@@global.log_slave_updates"
)

/** MySQL 8.0.23 – 8.0.25: `master_info_repository` deprecated (TABLE is the default since 8.0.2). */
export const SELECT_MYSQL8023_VARIABLES = mysqlVariables("1", "@@global.super_read_only", "@@global.log_slave_updates")

/** MySQL >= 8.0.26 (8.4 included): `log_replica_updates` (Percona's fork does the same on 8.4). */
export const SELECT_MYSQL8026_VARIABLES = mysqlVariables(
  "1",
  "@@global.super_read_only",
  "@@global.log_replica_updates"
)

/** MySQL 5.6 – 5.7.7 (no super_read_only). */
export const SELECT_MYSQL56_VARIABLES = mysqlVariables(
  "@@global.master_info_repository = 'TABLE'",
  "0",
  "@@global.log_slave_updates"
)

/** Binary log position: `File`, `Position` (+ `Executed_Gtid_Set` on MySQL). Empty when log_bin is off. */
export const SHOW_MASTER_STATUS = "SHOW MASTER STATUS"
/** Replaces SHOW MASTER STATUS from MySQL 8.2.0; the only form on 8.4 (mysql8.md §2.1). */
export const SHOW_BINARY_LOG_STATUS = "SHOW BINARY LOG STATUS"

/** Replica status with `Master_*`/`Slave_*` names: MariaDB (all), MySQL < 8.0.22. */
export const SHOW_SLAVE_STATUS = "SHOW SLAVE STATUS"
/** Replica status with `Source_*`/`Replica_*` names: MySQL >= 8.0.22 (mysql8.md §1.2). */
export const SHOW_REPLICA_STATUS = "SHOW REPLICA STATUS"

/**
 * Registered replicas (`report_host`/`report_port`): MariaDB, MySQL < 8.0.22. Needs REPLICATION MASTER ADMIN
 * on MariaDB 10.5.2+ (mariadb.md §3: ERROR 1227 with the classic orchestrator grant).
 */
export const SHOW_SLAVE_HOSTS = "SHOW SLAVE HOSTS"
/** Registered replicas: MySQL >= 8.0.22 (`Server_Id, Host, Port, Source_Id, Replica_UUID`). */
export const SHOW_REPLICAS = "SHOW REPLICAS"

/**
 * Orchestrator's default replica discovery (`DiscoverByShowSlaveHosts=false`): the binlog dump threads in
 * the process list; the replica port is assumed to equal this instance's port. `information_schema`
 * rather than `performance_schema.processlist`: the former exists on every version (deprecated but
 * present through 9.5, mysql8.md §6) and does not depend on performance_schema being enabled.
 */
export const SELECT_PROCESSLIST_REPLICAS =
  "SELECT SUBSTRING_INDEX(host, ':', 1) AS slave_hostname FROM information_schema.processlist " +
  "WHERE command IN ('Binlog Dump', 'Binlog Dump GTID')"

/**
 * Group replication membership hint, never an error: the variable list is empty when the plugin is not
 * loaded (where `@@global.group_replication_group_name` would fail with ERROR 1193).
 */
export const SHOW_VARIABLES_GROUP_NAME = "SHOW GLOBAL VARIABLES LIKE 'group_replication_group_name'"

/** Orchestrator's `PopulateGroupReplicationInformation` query, run only for group members. */
export const SELECT_GROUP_MEMBERS =
  "SELECT MEMBER_ID, MEMBER_HOST, MEMBER_PORT, MEMBER_STATE, MEMBER_ROLE, " +
  "@@global.group_replication_group_name AS group_name, " +
  "@@global.group_replication_single_primary_mode AS single_primary_mode " +
  "FROM performance_schema.replication_group_members WHERE MEMBER_STATE != 'OFFLINE'"

/**
 * Orchestrator: replication credentials are available when the master info table holds a user
 * (`select count(*) > 0 and MAX(User_name) != '' from mysql.slave_master_info`). Needs SELECT on that
 * table, which orchestrator's documented grant includes; may fail without it.
 */
export const SELECT_REPLICATION_CREDENTIALS =
  "SELECT COUNT(*) > 0 AND MAX(User_name) != '' AS credentials_available FROM mysql.slave_master_info"
