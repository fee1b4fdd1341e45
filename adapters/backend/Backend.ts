/**
 * Backend layers: a SQLite file or a dedicated MySQL/MariaDB database, migrated to the current
 * schema, providing the Repository (and the raw SqlClient for the raft applier's transactions).
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { SqlClient } from "@effect/sql"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as SqliteMigrator from "@effect/sql-sqlite-node/SqliteMigrator"
import { Data, Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Repository } from "../../core/backend/Repository.js"
import type { OrchestratorConfig } from "../../core/config/OrchestratorConfig.js"
import { migrations } from "./Migrations.js"
import * as SqlRepository from "./SqlRepository.js"

export class BackendError extends Data.TaggedError("BackendError")<{ readonly message: string; readonly cause?: unknown }> {}

export const describe = (cause: unknown): string => {
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
  // SQLite creates the file but not its directory; orchestrator users expect a fresh path to work.
  const ensureDir = Layer.effectDiscard(Effect.try({
    try: () => {
      if (options.filename !== ":memory:") fs.mkdirSync(path.dirname(path.resolve(options.filename)), { recursive: true })
    },
    catch: (cause) => new BackendError({ message: `cannot create the directory of ${options.filename}: ${describe(cause)}`, cause })
  }))
  const client = SqliteClient.layer({ filename: options.filename }).pipe(Layer.provide(ensureDir))
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

/** The backend the configuration asks for. */
export const layerFromConfig = (c: OrchestratorConfig) =>
  c.BackendDB.toLowerCase().includes("sqlite")
    ? layerSqlite({ filename: c.SQLite3DataFile })
    : Layer.unwrapEffect(Effect.map(
      // Loaded on demand: a SQLite node never pays for the MySQL driver's start-up cost.
      Effect.promise(() => import("./MysqlBackend.js")),
      (m) => m.layerMysql({
      host: c.MySQLOrchestratorHost,
      port: c.MySQLOrchestratorPort,
      database: c.MySQLOrchestratorDatabase,
      user: c.MySQLOrchestratorUser,
      password: c.MySQLOrchestratorPassword,
      maxConnections: c.MySQLOrchestratorMaxPoolConnections,
      connectTimeoutSeconds: c.MySQLConnectTimeoutSeconds
    })
    ))
