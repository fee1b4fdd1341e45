/**
 * Backend layers: a SQLite file or a dedicated MySQL/MariaDB database, migrated to the current
 * schema, providing the Repository (and the raw SqlClient for the raft applier's transactions).
 */
import { NodeContext } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { MysqlClient, MysqlMigrator } from "@effect/sql-mysql2"
import { SqliteClient, SqliteMigrator } from "@effect/sql-sqlite-node"
import { Data, Effect, Layer, Redacted } from "effect"
import * as mysql from "mysql2/promise"
import { Repository } from "../../core/backend/Repository.js"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { migrations } from "./Migrations.js"
import * as SqlRepository from "./SqlRepository.js"

export class BackendError extends Data.TaggedError("BackendError")<{ readonly message: string; readonly cause?: unknown }> {}

const describe = (cause: unknown): string => {
  if (cause && typeof cause === "object") {
    const c = cause as { message?: unknown; cause?: unknown }
    const inner = c.cause && typeof c.cause === "object" ? (c.cause as { message?: unknown }).message : undefined
    return [c.message, inner].filter((m) => typeof m === "string" && m !== "").join(": ")
  }
  return String(cause)
}

const loader = SqliteMigrator.fromRecord(migrations)

export interface SqliteOptions {
  readonly filename: string
}

/** SQLite: one file (or ":memory:"), WAL journal, synchronous=NORMAL, as orchestrator configures it. */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<Repository | SqlClient.SqlClient, BackendError> => {
  const client = SqliteClient.layer({ filename: options.filename })
  const setup = Layer.effectDiscard(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe("PRAGMA busy_timeout = 5000")
    yield* sql.unsafe("PRAGMA synchronous = NORMAL")
    yield* sql.unsafe("PRAGMA foreign_keys = ON")
  }))
  const migrate = SqliteMigrator.layer({ loader, table: "orchestrator_migrations" })
  return SqlRepository.layer("sqlite").pipe(
    Layer.provideMerge(Layer.mergeAll(setup, migrate).pipe(Layer.provide(NodeContext.layer))),
    Layer.provideMerge(client),
    Layer.mapError((cause) =>
      new BackendError({ message: `cannot open SQLite backend ${options.filename}: ${describe(cause)}`, cause })
    )
  )
}

export interface MysqlOptions {
  readonly host: string
  readonly port: number
  readonly database: string
  readonly user: string
  readonly password: string
  readonly maxConnections: number
  readonly connectTimeoutSeconds: number
}

/** Creates the database when it does not exist yet (orchestrator does the same on start-up). */
const ensureDatabase = (o: MysqlOptions) =>
  Effect.tryPromise({
    try: async () => {
      const conn = await mysql.createConnection({
        host: o.host,
        port: o.port,
        user: o.user,
        password: o.password,
        connectTimeout: o.connectTimeoutSeconds * 1000
      })
      try {
        await conn.query(`CREATE DATABASE IF NOT EXISTS \`${o.database.replace(/`/g, "``")}\``)
      } finally {
        await conn.end()
      }
    },
    catch: (cause) =>
      new BackendError({
        message: `cannot reach MySQL backend ${o.user}@${o.host}:${o.port}/${o.database}: ${describe(cause)}`,
        cause
      })
  })

/** A dedicated MySQL/MariaDB database, one per node (never shared between raft nodes). */
export const layerMysql = (o: MysqlOptions): Layer.Layer<Repository | SqlClient.SqlClient, BackendError> => {
  const client = Layer.unwrapEffect(Effect.as(
    ensureDatabase(o),
    MysqlClient.layer({
      host: o.host,
      port: o.port,
      database: o.database,
      username: o.user,
      password: Redacted.make(o.password),
      maxConnections: o.maxConnections,
      poolConfig: { connectTimeout: o.connectTimeoutSeconds * 1000, maxPreparedStatements: 64 }
    })
  ))
  const migrate = MysqlMigrator.layer({ loader: MysqlMigrator.fromRecord(migrations), table: "orchestrator_migrations" })
  return SqlRepository.layer("mysql").pipe(
    Layer.provideMerge(migrate.pipe(Layer.provide(NodeContext.layer))),
    Layer.provideMerge(client),
    Layer.mapError((cause) =>
      cause instanceof BackendError
        ? cause
        : new BackendError({ message: `MySQL backend ${o.host}:${o.port}/${o.database}: ${describe(cause)}`, cause })
    )
  )
}

/** The backend the configuration asks for. */
export const layerFromConfig = (c: OrchestratorConfig) =>
  c.BackendDB.toLowerCase().includes("sqlite")
    ? layerSqlite({ filename: c.SQLite3DataFile })
    : layerMysql({
      host: c.MySQLOrchestratorHost,
      port: c.MySQLOrchestratorPort,
      database: c.MySQLOrchestratorDatabase,
      user: c.MySQLOrchestratorUser,
      password: c.MySQLOrchestratorPassword,
      maxConnections: c.MySQLOrchestratorMaxPoolConnections,
      connectTimeoutSeconds: c.MySQLConnectTimeoutSeconds
    })
