/**
 * The backend schema, as numbered migrations shared by SQLite and MySQL.
 *
 * One logical schema: each table is written once with portable column kinds, rendered per dialect
 * (MySQL needs VARCHAR for key columns and an explicit engine/charset; SQLite wants INTEGER
 * PRIMARY KEY AUTOINCREMENT). The schema grows only by appending migrations here; a migration that
 * shipped is never edited.
 *
 * Design choices (docs/architecture.md): times are epoch milliseconds (BIGINT) in both dialects, so
 * comparisons are the same everywhere; an instance row keeps the columns that are queried (key,
 * cluster, master, check times) plus the full probe snapshot as JSON, so the probe model can grow
 * without migrations and analysis runs as a pure function in TypeScript rather than in SQL.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export type Dialect = "sqlite" | "mysql"

type Kind = "host" | "name" | "str" | "text" | "int" | "bool" | "id"

const render = (d: Dialect, kind: Kind): string => {
  switch (kind) {
    case "host":
      return d === "mysql" ? "VARCHAR(128) NOT NULL" : "TEXT NOT NULL"
    case "name":
      return d === "mysql" ? "VARCHAR(191) NOT NULL" : "TEXT NOT NULL"
    case "str":
      return d === "mysql" ? "VARCHAR(255) NOT NULL DEFAULT ''" : "TEXT NOT NULL DEFAULT ''"
    case "text":
      return d === "mysql" ? "MEDIUMTEXT NOT NULL" : "TEXT NOT NULL DEFAULT ''"
    case "int":
      return d === "mysql" ? "BIGINT NOT NULL DEFAULT 0" : "INTEGER NOT NULL DEFAULT 0"
    case "bool":
      return d === "mysql" ? "TINYINT NOT NULL DEFAULT 0" : "INTEGER NOT NULL DEFAULT 0"
    case "id":
      return d === "mysql" ? "BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT"
  }
}

interface Table {
  readonly name: string
  readonly columns: ReadonlyArray<readonly [string, Kind | { readonly nullable: "int" | "host" }]>
  readonly primaryKey?: ReadonlyArray<string>
  readonly unique?: ReadonlyArray<ReadonlyArray<string>>
  readonly indexes?: ReadonlyArray<ReadonlyArray<string>>
}

const createTable = (d: Dialect, t: Table): ReadonlyArray<string> => {
  const cols = t.columns.map(([name, kind]) => {
    if (typeof kind === "string") return `${name} ${render(d, kind)}`
    const base = kind.nullable === "int" ? (d === "mysql" ? "BIGINT" : "INTEGER") : d === "mysql" ? "VARCHAR(128)" : "TEXT"
    return `${name} ${base} NULL`
  })
  if (t.primaryKey) cols.push(`PRIMARY KEY (${t.primaryKey.join(", ")})`)
  for (const u of t.unique ?? []) cols.push(`UNIQUE (${u.join(", ")})`)
  const suffix = d === "mysql" ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" : ""
  const stmts = [`CREATE TABLE IF NOT EXISTS ${t.name} (\n  ${cols.join(",\n  ")}\n)${suffix}`]
  for (const ix of t.indexes ?? []) {
    const ixName = `${t.name}_${ix.join("_")}_idx`
    stmts.push(
      d === "mysql"
        ? `CREATE INDEX ${ixName} ON ${t.name} (${ix.join(", ")})`
        : `CREATE INDEX IF NOT EXISTS ${ixName} ON ${t.name} (${ix.join(", ")})`
    )
  }
  return stmts
}

const key = [["hostname", "host"], ["port", "int"]] as const

/** Migration 1: the tables the first issues need. */
export const initialTables: ReadonlyArray<Table> = [
  {
    name: "database_instance",
    columns: [
      ...key,
      ["last_checked", { nullable: "int" }],
      ["last_attempted_check", { nullable: "int" }],
      ["last_seen", { nullable: "int" }],
      ["last_check_partial_success", "bool"],
      ["cluster_name", "str"],
      ["master_host", { nullable: "host" }],
      ["master_port", { nullable: "int" }],
      ["data", "text"]
    ],
    primaryKey: ["hostname", "port"],
    indexes: [["cluster_name"], ["master_host", "master_port"]]
  },
  {
    name: "database_instance_downtime",
    columns: [...key, ["owner", "str"], ["reason", "text"], ["begin_timestamp", "int"], ["end_timestamp", "int"]],
    primaryKey: ["hostname", "port"],
    indexes: [["end_timestamp"]]
  },
  {
    name: "database_instance_maintenance",
    columns: [
      ["maintenance_id", "id"],
      ...key,
      ["maintenance_active", { nullable: "int" }],
      ["owner", "str"],
      ["reason", "text"],
      ["begin_timestamp", "int"],
      ["end_timestamp", "int"],
      ["processing_node_hostname", "str"],
      ["processing_node_token", "str"],
      ["explicitly_bounded", "bool"]
    ],
    // maintenance_active is 1 or NULL: at most one active maintenance per instance (orchestrator's trick).
    unique: [["hostname", "port", "maintenance_active"]]
  },
  {
    name: "candidate_database_instance",
    columns: [...key, ["promotion_rule", "str"], ["last_suggested", "int"], ["priority", "int"]],
    primaryKey: ["hostname", "port"]
  },
  {
    name: "database_instance_tags",
    columns: [...key, ["tag_name", "name"], ["tag_value", "text"], ["last_updated", "int"]],
    primaryKey: ["hostname", "port", "tag_name"],
    indexes: [["tag_name"]]
  },
  {
    name: "database_instance_pool",
    columns: [...key, ["pool", "name"], ["registered_at", "int"]],
    primaryKey: ["hostname", "port", "pool"],
    indexes: [["pool"]]
  },
  {
    name: "hostname_unresolve",
    columns: [["hostname", "host"], ["unresolved_hostname", "str"], ["last_registered", "int"]],
    primaryKey: ["hostname"]
  },
  {
    name: "node_health",
    columns: [
      ["hostname", "host"],
      ["token", "host"],
      ["last_seen_active", "int"],
      ["first_seen_active", "int"],
      ["extra_info", "text"],
      ["command", "str"],
      ["app_version", "str"],
      ["db_backend", "str"],
      ["incrementing_indicator", "int"]
    ],
    primaryKey: ["hostname", "token"]
  },
  {
    name: "kv_store",
    columns: [["store_key", "name"], ["store_value", "text"], ["last_updated", "int"]],
    primaryKey: ["store_key"]
  },
  {
    name: "cluster_alias",
    columns: [["cluster_name", "name"], ["alias", "str"], ["last_registered", "int"]],
    primaryKey: ["cluster_name"],
    indexes: [["alias"]]
  },
  {
    name: "cluster_alias_override",
    columns: [["cluster_name", "name"], ["alias", "str"]],
    primaryKey: ["cluster_name"]
  },
  {
    name: "global_recovery_disable",
    columns: [["disable_recovery", "int"]],
    primaryKey: ["disable_recovery"]
  },
  {
    name: "topology_failure_detection",
    columns: [
      ["detection_id", "id"],
      ...key,
      ["analysis", "str"],
      ["cluster_name", "str"],
      ["cluster_alias", "str"],
      ["is_actionable", "bool"],
      ["in_active_period", "bool"],
      ["start_active_period", "int"],
      ["end_active_period_unixtime", "int"],
      ["processing_node_hostname", "str"],
      ["processing_node_token", "str"],
      ["count_affected_replicas", "int"],
      ["replica_hosts", "text"],
      ["analysis_entry", "text"]
    ],
    unique: [["hostname", "port", "in_active_period", "end_active_period_unixtime", "is_actionable"]],
    indexes: [["start_active_period"]]
  },
  {
    name: "topology_recovery",
    columns: [
      ["recovery_id", "id"],
      ["uid", "host"],
      ...key,
      ["analysis", "str"],
      ["cluster_name", "str"],
      ["cluster_alias", "str"],
      ["recovery_type", "str"],
      ["in_active_period", "bool"],
      ["start_active_period", "int"],
      ["end_active_period_unixtime", "int"],
      ["end_recovery", { nullable: "int" }],
      ["processing_node_hostname", "str"],
      ["processing_node_token", "str"],
      ["successor_hostname", { nullable: "host" }],
      ["successor_port", { nullable: "int" }],
      ["successor_alias", "str"],
      ["is_successful", "bool"],
      ["lost_replicas", "text"],
      ["participating_instances", "text"],
      ["all_errors", "text"],
      ["acknowledged", "bool"],
      ["acknowledged_at", { nullable: "int" }],
      ["acknowledged_by", "str"],
      ["acknowledged_comment", "text"],
      ["last_detection_id", "int"],
      ["related_recovery_id", "int"],
      ["analysis_entry", "text"]
    ],
    unique: [["uid"], ["hostname", "port", "in_active_period", "end_active_period_unixtime"]],
    indexes: [["cluster_name"], ["start_active_period"]]
  },
  {
    name: "topology_recovery_steps",
    columns: [["recovery_step_id", "id"], ["recovery_uid", "host"], ["audit_at", "int"], ["message", "text"]],
    indexes: [["recovery_uid"]]
  },
  {
    name: "blocked_topology_recovery",
    columns: [
      ...key,
      ["cluster_name", "str"],
      ["analysis", "str"],
      ["last_blocked_timestamp", "int"],
      ["blocking_recovery_id", "int"]
    ],
    primaryKey: ["hostname", "port"]
  },
  {
    name: "database_instance_last_analysis",
    columns: [...key, ["analysis_timestamp", "int"], ["analysis", "str"]],
    primaryKey: ["hostname", "port"]
  },
  {
    name: "database_instance_analysis_changelog",
    columns: [["changelog_id", "id"], ...key, ["analysis_timestamp", "int"], ["analysis", "str"]],
    indexes: [["analysis_timestamp"]]
  },
  {
    name: "audit",
    columns: [
      ["audit_id", "id"],
      ["audit_timestamp", "int"],
      ["audit_type", "str"],
      ["hostname", "str"],
      ["port", "int"],
      ["cluster_name", "str"],
      ["message", "text"]
    ],
    indexes: [["audit_timestamp"]]
  },
  {
    name: "raft_applied",
    columns: [["anchor", "int"], ["applied_index", "int"], ["applied_term", "int"]],
    primaryKey: ["anchor"]
  },
  {
    name: "orchestrator_meta",
    columns: [["meta_key", "name"], ["meta_value", "text"]],
    primaryKey: ["meta_key"]
  }
]

const runStatements = (build: (d: Dialect) => ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const dialect: Dialect = sql.onDialectOrElse({ mysql: () => "mysql" as const, orElse: () => "sqlite" as const })
    for (const stmt of build(dialect)) {
      yield* sql.unsafe(stmt)
    }
  })

/** The migrations, in order. Append only. */
export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_initial": runStatements((d) => initialTables.flatMap((t) => createTable(d, t)))
}
