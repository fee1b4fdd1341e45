/**
 * The recovery service as a node runs it: the leader-only loop (service/Recovery.ts) with the shell hook runner
 * and TopologySql over mysql2, loaded on first use (docs/architecture.md "MySQL driver loaded on demand": a node
 * that never recovers anything never imports the driver).
 *
 * Needs: Leadership, AppConfig, NodeIdentity, Repository, CommandLog, Discovery (and LeaderUris when present).
 */
import { Effect, Layer, Scope } from "effect"
import * as ShellHookRunner from "../adapters/recovery/ShellHookRunner.js"
import { AppConfig } from "../core/config/AppConfig.js"
import { TopologySql } from "../core/discovery/TopologySql.js"
import * as RecoveryService from "./Recovery.js"

export const lazyTopologySqlLayer = Layer.scoped(
  TopologySql,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const config = yield* AppConfig
    const real = yield* Effect.cached(
      Effect.promise(() => import("../adapters/mysql/MysqlTopologySql.js")).pipe(
        Effect.flatMap((m) => m.make),
        Effect.provideService(AppConfig, config),
        Scope.extend(scope)
      )
    )
    return TopologySql.of({ execute: (key, statement) => Effect.flatMap(real, (t) => t.execute(key, statement)) })
  })
)

/** Recoveries + its TopologySql and HookRunner (both also exposed, for the recovery and refactoring handlers). */
export const layer = RecoveryService.layer.pipe(
  Layer.provideMerge(Layer.mergeAll(lazyTopologySqlLayer, ShellHookRunner.layer))
)
