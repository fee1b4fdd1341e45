/**
 * The Repository over `@effect/sql`, for both SQLite and MySQL. Queries are portable SQL; the only
 * dialect differences are upserts and insert-if-absent, kept in `upsertSuffix` / `insertIgnore`.
 */
import { SqlClient, type SqlError, type Statement } from "@effect/sql"
import { Effect, Layer } from "effect"
import {
  type Candidate,
  type ClusterAlias,
  type Downtime,
  type FailureDetection,
  type HostPort,
  type InstanceRecord,
  type InstanceTag,
  type KVPair,
  type Maintenance,
  type NodeHealth,
  type PromotionRule,
  type Recovery,
  type RecoveryStep,
  type ReplicatedDump,
  replicatedTables,
  Repository,
  RepositoryError,
  type TableDump
} from "../../core/backend/Repository.js"
import type { Dialect } from "./Migrations.js"

type Row = Record<string, unknown>

const num = (v: unknown): number => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : Number(v ?? 0))
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v))
const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v))
const bool = (v: unknown): boolean => num(v) !== 0
const keyOf = (r: Row): HostPort => ({ hostname: str(r.hostname), port: num(r.port) })

/** Rows per INSERT: far below MySQL's 65,535 and SQLite's 32,766 placeholders for any of our tables. */
const BATCH_ROWS = 500

const toInstance = (r: Row): InstanceRecord => ({
  key: keyOf(r),
  lastChecked: numOrNull(r.last_checked),
  lastAttemptedCheck: numOrNull(r.last_attempted_check),
  lastSeen: numOrNull(r.last_seen),
  lastCheckPartialSuccess: bool(r.last_check_partial_success),
  clusterName: str(r.cluster_name),
  masterKey: r.master_host === null || r.master_host === undefined
    ? null
    : { hostname: str(r.master_host), port: num(r.master_port) },
  data: str(r.data)
})

const toDetection = (r: Row): FailureDetection => ({
  id: num(r.detection_id),
  key: keyOf(r),
  analysis: str(r.analysis),
  clusterName: str(r.cluster_name),
  clusterAlias: str(r.cluster_alias),
  isActionable: bool(r.is_actionable),
  inActivePeriod: bool(r.in_active_period),
  startActivePeriod: num(r.start_active_period),
  endActivePeriodUnixtime: num(r.end_active_period_unixtime),
  processingNodeHostname: str(r.processing_node_hostname),
  processingNodeToken: str(r.processing_node_token),
  countAffectedReplicas: num(r.count_affected_replicas),
  replicaHosts: str(r.replica_hosts),
  analysisEntry: str(r.analysis_entry)
})

const toRecovery = (r: Row): Recovery => ({
  id: num(r.recovery_id),
  uid: str(r.uid),
  key: keyOf(r),
  analysis: str(r.analysis),
  clusterName: str(r.cluster_name),
  clusterAlias: str(r.cluster_alias),
  recoveryType: str(r.recovery_type),
  inActivePeriod: bool(r.in_active_period),
  startActivePeriod: num(r.start_active_period),
  endActivePeriodUnixtime: num(r.end_active_period_unixtime),
  endRecovery: numOrNull(r.end_recovery),
  processingNodeHostname: str(r.processing_node_hostname),
  processingNodeToken: str(r.processing_node_token),
  successorKey: r.successor_hostname === null || r.successor_hostname === undefined
    ? null
    : { hostname: str(r.successor_hostname), port: num(r.successor_port) },
  successorAlias: str(r.successor_alias),
  isSuccessful: bool(r.is_successful),
  lostReplicas: str(r.lost_replicas),
  participatingInstances: str(r.participating_instances),
  allErrors: str(r.all_errors),
  acknowledged: bool(r.acknowledged),
  acknowledgedAt: numOrNull(r.acknowledged_at),
  acknowledgedBy: str(r.acknowledged_by),
  acknowledgedComment: str(r.acknowledged_comment),
  lastDetectionId: num(r.last_detection_id),
  relatedRecoveryId: num(r.related_recovery_id),
  analysisEntry: str(r.analysis_entry)
})

const toMaintenance = (r: Row): Maintenance => ({
  id: num(r.maintenance_id),
  key: keyOf(r),
  owner: str(r.owner),
  reason: str(r.reason),
  beginTimestamp: num(r.begin_timestamp),
  endTimestamp: num(r.end_timestamp),
  processingNodeHostname: str(r.processing_node_hostname),
  processingNodeToken: str(r.processing_node_token),
  explicitlyBounded: bool(r.explicitly_bounded)
})

export const make = (dialect: Dialect) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const wrap = (operation: string) => <A>(effect: Effect.Effect<A, SqlError.SqlError>) =>
      Effect.mapError(effect, (cause) => new RepositoryError({ operation, cause }))

    /** `ON CONFLICT ... DO UPDATE` / `ON DUPLICATE KEY UPDATE` for the given columns. */
    /** The dialect's upsert clause as text (statements of the op-apply path are built once, not compiled per op). */
    const upsertText = (conflict: ReadonlyArray<string>, update: ReadonlyArray<string>): string =>
      dialect === "mysql"
        ? `ON DUPLICATE KEY UPDATE ${update.map((c) => `${c} = VALUES(${c})`).join(", ")}`
        : `ON CONFLICT (${conflict.join(", ")}) DO UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(", ")}`
    const upsertSuffix = (conflict: ReadonlyArray<string>, update: ReadonlyArray<string>): Statement.Fragment =>
      sql.unsafe(upsertText(conflict, update))

    const insertIgnore = dialect === "mysql" ? sql.unsafe("INSERT IGNORE INTO") : sql.unsafe("INSERT OR IGNORE INTO")

    const beginDowntimeSql = "INSERT INTO database_instance_downtime (hostname, port, owner, reason, begin_timestamp, end_timestamp) " +
      `VALUES (?, ?, ?, ?, ?, ?) ${upsertText(["hostname", "port"], ["owner", "reason", "begin_timestamp", "end_timestamp"])}`
    const writeAppliedIndexSql = "INSERT INTO raft_applied (anchor, applied_index, applied_term) VALUES (?, ?, ?) " +
      upsertText(["anchor"], ["applied_index", "applied_term"])

    /** Rows changed by the last statement, for both drivers. */
    const changes = (result: unknown): number => {
      if (Array.isArray(result)) return result.length
      const r = result as { affectedRows?: number; changes?: number }
      return num(r?.affectedRows ?? r?.changes ?? 0)
    }

    /** A write that must report rows changed: SQLite via changes(), MySQL via ROW_COUNT(). */
    const mutate = (stmt: Statement.Statement<Row>) =>
      Effect.gen(function*() {
        if (dialect === "mysql") {
          const raw = yield* stmt.raw
          return changes(raw)
        }
        yield* stmt
        const rows = yield* sql<Row>`SELECT changes() AS n`
        return num(rows[0]?.n)
      })

    const insertId = Effect.gen(function*() {
      const rows = dialect === "mysql"
        ? yield* sql<Row>`SELECT LAST_INSERT_ID() AS id`
        : yield* sql<Row>`SELECT last_insert_rowid() AS id`
      return num(rows[0]?.id)
    })

    // Writes that read back changes() or the insert id must run on one connection, in one transaction.
    const atomically = <A, E, Req>(effect: Effect.Effect<A, E, Req>) => sql.withTransaction(effect)

    const repo: Repository["Type"] = {
      dialect,
      ping: wrap("ping")(Effect.asVoid(sql`SELECT 1 AS ok`)),

      upsertNodeHealth: (h) =>
        wrap("upsertNodeHealth")(Effect.asVoid(sql`INSERT INTO node_health ${
          sql.insert({
            hostname: h.hostname,
            token: h.token,
            last_seen_active: h.lastSeenActive,
            first_seen_active: h.firstSeenActive,
            extra_info: h.extraInfo,
            command: h.command,
            app_version: h.appVersion,
            db_backend: h.dbBackend,
            incrementing_indicator: h.incrementingIndicator
          })
        } ${upsertSuffix(["hostname", "token"], ["last_seen_active", "extra_info", "command", "app_version", "db_backend", "incrementing_indicator"])}`)),
      readNodeHealth: wrap("readNodeHealth")(
        Effect.map(sql<Row>`SELECT * FROM node_health ORDER BY first_seen_active, hostname`, (rows) =>
          rows.map((r): NodeHealth => ({
            hostname: str(r.hostname),
            token: str(r.token),
            lastSeenActive: num(r.last_seen_active),
            firstSeenActive: num(r.first_seen_active),
            extraInfo: str(r.extra_info),
            command: str(r.command),
            appVersion: str(r.app_version),
            dbBackend: str(r.db_backend),
            incrementingIndicator: num(r.incrementing_indicator)
          })))
      ),
      expireNodeHealth: (olderThan) =>
        wrap("expireNodeHealth")(atomically(mutate(sql`DELETE FROM node_health WHERE last_seen_active < ${olderThan}`))),

      writeInstances: (rows) =>
        wrap("writeInstances")(atomically(Effect.forEach(chunks(rows, BATCH_ROWS), (batch) =>
          sql`INSERT INTO database_instance ${
            sql.insert(batch.map((r) => ({
              hostname: r.key.hostname,
              port: r.key.port,
              last_checked: r.lastChecked,
              last_attempted_check: r.lastAttemptedCheck,
              last_seen: r.lastSeen,
              last_check_partial_success: r.lastCheckPartialSuccess ? 1 : 0,
              cluster_name: r.clusterName,
              master_host: r.masterKey?.hostname ?? null,
              master_port: r.masterKey?.port ?? null,
              data: r.data
            })))
          } ${
            upsertSuffix(["hostname", "port"], [
              "last_checked",
              "last_attempted_check",
              "last_seen",
              "last_check_partial_success",
              "cluster_name",
              "master_host",
              "master_port",
              "data"
            ])
          }`, { discard: true }))),
      readInstance: (k) =>
        wrap("readInstance")(
          Effect.map(sql<Row>`SELECT * FROM database_instance WHERE hostname = ${k.hostname} AND port = ${k.port}`, (rows) =>
            rows[0] ? toInstance(rows[0]) : undefined)
        ),
      readInstances: wrap("readInstances")(
        Effect.map(sql<Row>`SELECT * FROM database_instance ORDER BY hostname, port`, (rows) => rows.map(toInstance))
      ),
      readClusterInstances: (clusterName) =>
        wrap("readClusterInstances")(
          Effect.map(
            sql<Row>`SELECT * FROM database_instance WHERE cluster_name = ${clusterName} ORDER BY hostname, port`,
            (rows) => rows.map(toInstance)
          )
        ),
      markAttemptedCheck: (k, at) =>
        wrap("markAttemptedCheck")(Effect.asVoid(
          sql`UPDATE database_instance SET last_attempted_check = ${at} WHERE hostname = ${k.hostname} AND port = ${k.port}`
        )),
      markFailedCheck: (k, at) =>
        wrap("markFailedCheck")(Effect.asVoid(
          // orchestrator: a failed probe sets last_checked without touching last_seen.
          sql`UPDATE database_instance SET last_checked = ${at}, last_check_partial_success = 0 WHERE hostname = ${k.hostname} AND port = ${k.port}`
        )),
      forgetInstance: (k) =>
        wrap("forgetInstance")(atomically(Effect.map(
          mutate(sql`DELETE FROM database_instance WHERE hostname = ${k.hostname} AND port = ${k.port}`),
          (n) => n > 0
        ))),
      forgetCluster: (clusterName) =>
        wrap("forgetCluster")(atomically(mutate(sql`DELETE FROM database_instance WHERE cluster_name = ${clusterName}`))),

      beginDowntime: (d) =>
        wrap("beginDowntime")(Effect.asVoid(sql.unsafe(beginDowntimeSql, [
          d.key.hostname,
          d.key.port,
          d.owner,
          d.reason,
          d.beginTimestamp,
          d.endTimestamp
        ]))),
      endDowntime: (k) =>
        wrap("endDowntime")(atomically(Effect.map(
          mutate(sql`DELETE FROM database_instance_downtime WHERE hostname = ${k.hostname} AND port = ${k.port}`),
          (n) => n > 0
        ))),
      readActiveDowntimes: (now) =>
        wrap("readActiveDowntimes")(Effect.map(
          sql<Row>`SELECT * FROM database_instance_downtime WHERE end_timestamp > ${now} ORDER BY hostname, port`,
          (rows) =>
            rows.map((r): Downtime => ({
              key: keyOf(r),
              owner: str(r.owner),
              reason: str(r.reason),
              beginTimestamp: num(r.begin_timestamp),
              endTimestamp: num(r.end_timestamp)
            }))
        )),
      expireDowntimes: (now) =>
        wrap("expireDowntimes")(atomically(mutate(sql`DELETE FROM database_instance_downtime WHERE end_timestamp <= ${now}`))),

      beginMaintenance: (m) =>
        wrap("beginMaintenance")(atomically(Effect.gen(function*() {
          // An expired maintenance no longer blocks a new one.
          yield* sql`UPDATE database_instance_maintenance SET maintenance_active = NULL
            WHERE hostname = ${m.key.hostname} AND port = ${m.key.port} AND maintenance_active = 1 AND end_timestamp <= ${m.beginTimestamp}`
          const n = yield* mutate(sql`${insertIgnore} database_instance_maintenance ${
            sql.insert({
              ...(m.id !== undefined ? { maintenance_id: m.id } : {}),
              hostname: m.key.hostname,
              port: m.key.port,
              maintenance_active: 1,
              owner: m.owner,
              reason: m.reason,
              begin_timestamp: m.beginTimestamp,
              end_timestamp: m.endTimestamp,
              processing_node_hostname: m.processingNodeHostname,
              processing_node_token: m.processingNodeToken,
              explicitly_bounded: m.explicitlyBounded ? 1 : 0
            })
          }`)
          return n > 0 ? (m.id ?? (yield* insertId)) : undefined
        }))),
      endMaintenance: (k) =>
        wrap("endMaintenance")(atomically(Effect.map(
          mutate(sql`UPDATE database_instance_maintenance SET maintenance_active = NULL
            WHERE hostname = ${k.hostname} AND port = ${k.port} AND maintenance_active = 1`),
          (n) => n > 0
        ))),
      endMaintenanceById: (id) =>
        wrap("endMaintenanceById")(atomically(Effect.map(
          mutate(sql`UPDATE database_instance_maintenance SET maintenance_active = NULL
            WHERE maintenance_id = ${id} AND maintenance_active = 1`),
          (n) => n > 0
        ))),
      readActiveMaintenance: (now) =>
        wrap("readActiveMaintenance")(Effect.map(
          sql<Row>`SELECT * FROM database_instance_maintenance
            WHERE maintenance_active = 1 AND end_timestamp > ${now} ORDER BY maintenance_id`,
          (rows) => rows.map(toMaintenance)
        )),

      registerCandidate: (c) =>
        wrap("registerCandidate")(Effect.asVoid(sql`INSERT INTO candidate_database_instance ${
          sql.insert({
            hostname: c.key.hostname,
            port: c.key.port,
            promotion_rule: c.promotionRule,
            last_suggested: c.lastSuggested,
            priority: c.priority
          })
        } ${upsertSuffix(["hostname", "port"], ["promotion_rule", "last_suggested", "priority"])}`)),
      readCandidates: (notOlderThan) =>
        wrap("readCandidates")(Effect.map(
          sql<Row>`SELECT * FROM candidate_database_instance WHERE last_suggested >= ${notOlderThan} ORDER BY hostname, port`,
          (rows) =>
            rows.map((r): Candidate => ({
              key: keyOf(r),
              promotionRule: str(r.promotion_rule) as PromotionRule,
              lastSuggested: num(r.last_suggested),
              priority: num(r.priority)
            }))
        )),

      putTag: (t) =>
        wrap("putTag")(Effect.asVoid(sql`INSERT INTO database_instance_tags ${
          sql.insert({ hostname: t.key.hostname, port: t.key.port, tag_name: t.tagName, tag_value: t.tagValue, last_updated: 0 })
        } ${upsertSuffix(["hostname", "port", "tag_name"], ["tag_value"])}`)),
      deleteTag: (k, tagName) =>
        wrap("deleteTag")(atomically(mutate(
          tagName === undefined
            ? sql`DELETE FROM database_instance_tags WHERE hostname = ${k.hostname} AND port = ${k.port}`
            : sql`DELETE FROM database_instance_tags WHERE hostname = ${k.hostname} AND port = ${k.port} AND tag_name = ${tagName}`
        ))),
      readTags: (k) =>
        wrap("readTags")(Effect.map(
          sql<Row>`SELECT * FROM database_instance_tags WHERE hostname = ${k.hostname} AND port = ${k.port} ORDER BY tag_name`,
          (rows) => rows.map(toTag)
        )),
      readTagged: (tagName, tagValue) =>
        wrap("readTagged")(Effect.map(
          tagValue === undefined
            ? sql<Row>`SELECT * FROM database_instance_tags WHERE tag_name = ${tagName} ORDER BY hostname, port`
            : sql<Row>`SELECT * FROM database_instance_tags WHERE tag_name = ${tagName} AND tag_value = ${tagValue} ORDER BY hostname, port`,
          (rows) => rows.map(toTag)
        )),

      submitPool: (pool, keys, at) =>
        wrap("submitPool")(atomically(Effect.gen(function*() {
          yield* sql`DELETE FROM database_instance_pool WHERE pool = ${pool}`
          for (const batch of chunks(keys, BATCH_ROWS)) {
            yield* sql`INSERT INTO database_instance_pool ${
              sql.insert(batch.map((k) => ({ hostname: k.hostname, port: k.port, pool, registered_at: at })))
            }`
          }
        }))),
      readPool: (pool) =>
        wrap("readPool")(Effect.map(
          sql<Row>`SELECT hostname, port FROM database_instance_pool WHERE pool = ${pool} ORDER BY hostname, port`,
          (rows) => rows.map(keyOf)
        )),
      readPoolMembers: wrap("readPoolMembers")(Effect.map(
        sql<Row>`SELECT pool, hostname, port FROM database_instance_pool ORDER BY pool, hostname, port`,
        (rows) => rows.map((r) => ({ pool: str(r.pool), key: keyOf(r) }))
      )),

      putKV: (pair, at) =>
        wrap("putKV")(Effect.asVoid(sql`INSERT INTO kv_store ${
          sql.insert({ store_key: pair.key, store_value: pair.value, last_updated: at })
        } ${upsertSuffix(["store_key"], ["store_value", "last_updated"])}`)),
      getKV: (k) =>
        wrap("getKV")(Effect.map(sql<Row>`SELECT store_value FROM kv_store WHERE store_key = ${k}`, (rows) =>
          rows[0] ? str(rows[0].store_value) : undefined)),
      readKV: wrap("readKV")(Effect.map(
        sql<Row>`SELECT store_key, store_value FROM kv_store ORDER BY store_key`,
        (rows) => rows.map((r): KVPair => ({ key: str(r.store_key), value: str(r.store_value) }))
      )),

      setClusterAlias: (clusterName, alias, at) =>
        wrap("setClusterAlias")(Effect.asVoid(sql`INSERT INTO cluster_alias ${
          sql.insert({ cluster_name: clusterName, alias, last_registered: at })
        } ${upsertSuffix(["cluster_name"], ["alias", "last_registered"])}`)),
      setClusterAliasOverride: (clusterName, alias) =>
        wrap("setClusterAliasOverride")(Effect.asVoid(sql`INSERT INTO cluster_alias_override ${
          sql.insert({ cluster_name: clusterName, alias })
        } ${upsertSuffix(["cluster_name"], ["alias"])}`)),
      readClusterAliases: wrap("readClusterAliases")(Effect.gen(function*() {
        const detected = yield* sql<Row>`SELECT cluster_name, alias FROM cluster_alias`
        const manual = yield* sql<Row>`SELECT cluster_name, alias FROM cluster_alias_override`
        // A manual override wins over a detected alias (orchestrator's cluster_alias_override).
        const byCluster = new Map<string, ClusterAlias>()
        for (const r of detected) byCluster.set(str(r.cluster_name), { clusterName: str(r.cluster_name), alias: str(r.alias), manual: false })
        for (const r of manual) byCluster.set(str(r.cluster_name), { clusterName: str(r.cluster_name), alias: str(r.alias), manual: true })
        return [...byCluster.values()].sort((a, b) => a.clusterName.localeCompare(b.clusterName))
      })),

      registerHostnameUnresolve: (hostname, unresolved, at) =>
        wrap("registerHostnameUnresolve")(Effect.asVoid(sql`INSERT INTO hostname_unresolve ${
          sql.insert({ hostname, unresolved_hostname: unresolved, last_registered: at })
        } ${upsertSuffix(["hostname"], ["unresolved_hostname", "last_registered"])}`)),
      deregisterHostnameUnresolve: (hostname) =>
        wrap("deregisterHostnameUnresolve")(atomically(Effect.map(
          mutate(sql`DELETE FROM hostname_unresolve WHERE hostname = ${hostname}`),
          (n) => n > 0
        ))),

      setGlobalRecoveriesDisabled: (disabled) =>
        wrap("setGlobalRecoveriesDisabled")(Effect.asVoid(
          disabled
            ? sql`${insertIgnore} global_recovery_disable ${sql.insert({ disable_recovery: 1 })}`
            : sql`DELETE FROM global_recovery_disable`
        )),
      isGlobalRecoveriesDisabled: wrap("isGlobalRecoveriesDisabled")(
        Effect.map(sql<Row>`SELECT COUNT(*) AS n FROM global_recovery_disable`, (rows) => num(rows[0]?.n) > 0)
      ),

      registerFailureDetection: (d) =>
        wrap("registerFailureDetection")(atomically(Effect.gen(function*() {
          const n = yield* mutate(sql`${insertIgnore} topology_failure_detection ${
            sql.insert({
              ...(d.id !== undefined ? { detection_id: d.id } : {}),
              hostname: d.key.hostname,
              port: d.key.port,
              analysis: d.analysis,
              cluster_name: d.clusterName,
              cluster_alias: d.clusterAlias,
              is_actionable: d.isActionable ? 1 : 0,
              in_active_period: d.inActivePeriod ? 1 : 0,
              start_active_period: d.startActivePeriod,
              end_active_period_unixtime: d.endActivePeriodUnixtime,
              processing_node_hostname: d.processingNodeHostname,
              processing_node_token: d.processingNodeToken,
              count_affected_replicas: d.countAffectedReplicas,
              replica_hosts: d.replicaHosts,
              analysis_entry: d.analysisEntry
            })
          }`)
          return n > 0 ? (d.id ?? (yield* insertId)) : undefined
        }))),
      readFailureDetections: (limit, offset) =>
        wrap("readFailureDetections")(Effect.map(
          sql<Row>`SELECT * FROM topology_failure_detection ORDER BY detection_id DESC LIMIT ${limit} OFFSET ${offset}`,
          (rows) => rows.map(toDetection)
        )),
      insertRecovery: (r) =>
        wrap("insertRecovery")(atomically(Effect.gen(function*() {
          const n = yield* mutate(sql`${insertIgnore} topology_recovery ${
            sql.insert({
              ...(r.id !== undefined ? { recovery_id: r.id } : {}),
              uid: r.uid,
              hostname: r.key.hostname,
              port: r.key.port,
              analysis: r.analysis,
              cluster_name: r.clusterName,
              cluster_alias: r.clusterAlias,
              recovery_type: r.recoveryType,
              in_active_period: r.inActivePeriod ? 1 : 0,
              start_active_period: r.startActivePeriod,
              end_active_period_unixtime: r.endActivePeriodUnixtime,
              end_recovery: null,
              processing_node_hostname: r.processingNodeHostname,
              processing_node_token: r.processingNodeToken,
              successor_hostname: r.successorKey?.hostname ?? null,
              successor_port: r.successorKey?.port ?? null,
              successor_alias: r.successorAlias,
              is_successful: r.isSuccessful ? 1 : 0,
              lost_replicas: r.lostReplicas,
              participating_instances: r.participatingInstances,
              all_errors: r.allErrors,
              acknowledged: 0,
              acknowledged_at: null,
              acknowledged_by: "",
              acknowledged_comment: "",
              last_detection_id: r.lastDetectionId,
              related_recovery_id: r.relatedRecoveryId,
              analysis_entry: r.analysisEntry
            })
          }`)
          return n > 0 ? (r.id ?? (yield* insertId)) : undefined
        }))),
      resolveRecovery: (uid, res) =>
        wrap("resolveRecovery")(atomically(Effect.map(
          mutate(sql`UPDATE topology_recovery SET
              is_successful = ${res.isSuccessful ? 1 : 0},
              successor_hostname = ${res.successorKey?.hostname ?? null},
              successor_port = ${res.successorKey?.port ?? null},
              successor_alias = ${res.successorAlias},
              lost_replicas = ${res.lostReplicas},
              participating_instances = ${res.participatingInstances},
              all_errors = ${res.allErrors},
              end_recovery = ${res.endRecovery}
            WHERE uid = ${uid}`),
          (n) => n > 0
        ))),
      readRecoveries: (limit, offset) =>
        wrap("readRecoveries")(Effect.map(
          sql<Row>`SELECT * FROM topology_recovery ORDER BY recovery_id DESC LIMIT ${limit} OFFSET ${offset}`,
          (rows) => rows.map(toRecovery)
        )),
      readRecoveryByUid: (uid) =>
        wrap("readRecoveryByUid")(Effect.map(
          sql<Row>`SELECT * FROM topology_recovery WHERE uid = ${uid}`,
          (rows) => (rows[0] ? toRecovery(rows[0]) : undefined)
        )),
      acknowledgeRecoveries: (filter, ack) => {
        const where = (() => {
          switch (filter._tag) {
            case "All":
              return sql`1 = 1`
            case "Cluster":
              return sql`cluster_name = ${filter.clusterName}`
            case "Instance":
              return sql`hostname = ${filter.key.hostname} AND port = ${filter.key.port}`
            case "Id":
              return sql`recovery_id = ${filter.id}`
            case "Uid":
              return sql`uid = ${filter.uid}`
          }
        })()
        // Acknowledging ends the active period, which is what lets the next recovery of the cluster run.
        return wrap("acknowledgeRecoveries")(atomically(mutate(sql`UPDATE topology_recovery SET
            acknowledged = 1, acknowledged_at = ${ack.at}, acknowledged_by = ${ack.by},
            acknowledged_comment = ${ack.comment}, in_active_period = 0
          WHERE acknowledged = 0 AND ${where}`)))
      },
      writeRecoveryStep: (step) =>
        wrap("writeRecoveryStep")(Effect.asVoid(sql`INSERT INTO topology_recovery_steps ${
          sql.insert({
            ...(step.id !== undefined ? { recovery_step_id: step.id } : {}),
            recovery_uid: step.recoveryUid,
            audit_at: step.auditAt,
            message: step.message
          })
        }`)),
      readRecoverySteps: (uid) =>
        wrap("readRecoverySteps")(Effect.map(
          sql<Row>`SELECT * FROM topology_recovery_steps WHERE recovery_uid = ${uid} ORDER BY recovery_step_id`,
          (rows) =>
            rows.map((r): RecoveryStep => ({
              id: num(r.recovery_step_id),
              recoveryUid: str(r.recovery_uid),
              auditAt: num(r.audit_at),
              message: str(r.message)
            }))
        )),

      readAppliedIndex: wrap("readAppliedIndex")(Effect.map(
        sql<Row>`SELECT applied_index, applied_term FROM raft_applied WHERE anchor = 1`,
        (rows) => ({ index: num(rows[0]?.applied_index), term: num(rows[0]?.applied_term) })
      )),
      writeAppliedIndex: (index, term) =>
        wrap("writeAppliedIndex")(Effect.asVoid(sql.unsafe(writeAppliedIndexSql, [1, index, term]))),
      transaction: (effect) =>
        Effect.catchTag(
          sql.withTransaction(effect) as Effect.Effect<
            Effect.Effect.Success<typeof effect>,
            Effect.Effect.Error<typeof effect> | SqlError.SqlError,
            Effect.Effect.Context<typeof effect>
          >,
          "SqlError",
          (cause) => Effect.fail(new RepositoryError({ operation: "transaction", cause }))
        ),

      dumpReplicated: wrap("dumpReplicated")(Effect.gen(function*() {
        const out: Record<string, TableDump> = {}
        for (const table of replicatedTables) {
          const rows = yield* sql<Row>`SELECT * FROM ${sql(table)} ORDER BY ${sql.unsafe(dumpOrder[table])}`
          const columns = rows[0] ? Object.keys(rows[0]).sort() : []
          out[table] = { columns, rows: rows.map((r) => columns.map((c) => cell(r[c]))) }
        }
        return out as ReplicatedDump
      })),
      restoreReplicated: (dump) =>
        wrap("restoreReplicated")(Effect.gen(function*() {
          for (const table of replicatedTables) {
            yield* sql`DELETE FROM ${sql(table)}`
            const t = dump[table]
            if (t === undefined || t.rows.length === 0) continue
            const records = t.rows.map((row) => Object.fromEntries(t.columns.map((c, i) => [c, row[i] ?? null])))
            for (const batch of chunks(records, BATCH_ROWS)) {
              yield* sql`INSERT INTO ${sql(table)} ${sql.insert(batch)}`
            }
          }
        })),

      getMeta: (k) =>
        wrap("getMeta")(Effect.map(sql<Row>`SELECT meta_value FROM orchestrator_meta WHERE meta_key = ${k}`, (rows) =>
          rows[0] ? str(rows[0].meta_value) : undefined)),
      putMeta: (k, v) =>
        wrap("putMeta")(Effect.asVoid(sql`INSERT INTO orchestrator_meta ${
          sql.insert({ meta_key: k, meta_value: v })
        } ${upsertSuffix(["meta_key"], ["meta_value"])}`))
    }
    return repo
  })

/** A stable order per table, so two nodes with equal tables produce byte-equal dumps. */
const dumpOrder: Record<(typeof replicatedTables)[number], string> = {
  database_instance_downtime: "hostname, port",
  database_instance_maintenance: "maintenance_id",
  candidate_database_instance: "hostname, port",
  database_instance_tags: "hostname, port, tag_name",
  database_instance_pool: "pool, hostname, port",
  hostname_unresolve: "hostname",
  kv_store: "store_key",
  cluster_alias_override: "cluster_name",
  global_recovery_disable: "disable_recovery",
  topology_failure_detection: "detection_id",
  topology_recovery: "recovery_id",
  topology_recovery_steps: "recovery_step_id"
}

/** Dump cells are JSON-safe scalars (MySQL may return BIGINT as string or bigint, DATETIME as Date). */
const cell = (v: unknown): string | number | null =>
  v === null || v === undefined
    ? null
    : typeof v === "number" || typeof v === "string"
    ? v
    : typeof v === "bigint"
    ? Number(v)
    : v instanceof Date
    ? v.getTime()
    : String(v)

const toTag = (r: Row): InstanceTag => ({ key: keyOf(r), tagName: str(r.tag_name), tagValue: str(r.tag_value) })

const chunks = <A>(items: ReadonlyArray<A>, size: number): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export const layer = (dialect: Dialect) => Layer.effect(Repository, make(dialect))
