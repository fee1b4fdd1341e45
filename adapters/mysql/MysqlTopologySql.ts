/**
 * TopologySql over mysql2: statements built and escaped on the client (core/discovery/TopologySql.ts `sql`)
 * and sent through the text protocol, so CHANGE MASTER and friends work (the server cannot prepare them).
 * One reusable connection per instance, read timeout MySQLTopologyReadTimeoutSeconds.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "../../core/config/AppConfig.js"
import { TopologySql, TopologySqlError } from "../../core/discovery/TopologySql.js"
import type { RawResult } from "../../core/topology/probe/RawRow.js"
import { asDriverError, Connections, isConnectionError } from "./Connections.js"
import { topologyTls } from "./Tls.js"

export const make = Effect.gen(function*() {
  const c = yield* AppConfig
  const connections = new Connections({
    user: c.MySQLTopologyUser,
    password: c.MySQLTopologyPassword,
    connectTimeoutMs: c.MySQLConnectTimeoutSeconds * 1000,
    queryTimeoutMs: c.MySQLTopologyReadTimeoutSeconds * 1000,
    idleMs: 60_000,
    tls: topologyTls(c)
  })
  yield* Effect.addFinalizer(() => Effect.sync(() => connections.closeAll()))
  yield* Effect.forkScoped(Effect.sync(() => connections.sweep()).pipe(Effect.delay(30_000), Effect.forever))
  return TopologySql.of({
    execute: (key, statement) =>
      Effect.tryPromise({
        try: async () => {
          const lease = await connections.lease(key.hostname, key.port)
          let broken = false
          try {
            const rows = await lease.query(statement.text)
            return (Array.isArray(rows) ? rows : []) as RawResult
          } catch (e) {
            broken = isConnectionError(asDriverError(e))
            throw e
          } finally {
            lease.release(broken)
          }
        },
        catch: (e) => {
          const d = asDriverError(e)
          return new TopologySqlError({
            key,
            statement: statement.text,
            errno: d.errno ?? 0,
            message: `${key.hostname}:${key.port}: ${d.message}`,
            cause: e
          })
        }
      })
  })
})

export const layer = Layer.scoped(TopologySql, make)
