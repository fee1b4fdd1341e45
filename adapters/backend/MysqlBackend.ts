/** The MySQL/MariaDB backend layer (loaded on demand by Backend.layerFromConfig). */
import * as NodeContext from "@effect/platform-node/NodeContext"
import type { SqlClient } from "@effect/sql"
import * as MysqlClient from "@effect/sql-mysql2/MysqlClient"
import * as MysqlMigrator from "@effect/sql-mysql2/MysqlMigrator"
import { Effect, Layer, Redacted } from "effect"
import * as mysql from "mysql2/promise"
import type { Repository } from "../../core/backend/Repository.js"
import { BackendError, describe } from "./Backend.js"
import { migrations } from "./Migrations.js"
import * as SqlRepository from "./SqlRepository.js"

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

