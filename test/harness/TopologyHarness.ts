/**
 * Effect form of the MariaDB topology harness: `make` is scoped (servers stop when the scope closes, also when the
 * test fails or is interrupted), `layer` shares one topology across an `@effect/vitest` `layer(...)` block.
 *
 *   it.scoped("fails over", () =>
 *     Effect.gen(function*() {
 *       const topo = yield* TopologyHarness.make({ shape: Shape.masterWithReplicas(3) })
 *       yield* TopologyHarness.kill9(topo.master)
 *     }))
 */
import { Context, Effect, Layer, type Scope } from "effect"
import { type HarnessError, toHarnessError } from "./HarnessError.js"
import type { ConnectOptions, MariaDbInstance, PartitionMode, RestartOptions, Row } from "./MariaDbInstance.js"
import { startTopology, type SyncOptions, type Topology, type TopologyOptions } from "./Topology.js"

export { HarnessError } from "./HarnessError.js"
export { Shape, type Topology, type TopologyOptions, type TopologyShape } from "./Topology.js"

/** The topology of the current test layer. */
export class MariaDbTopology extends Context.Tag("orchestrator/test/MariaDbTopology")<MariaDbTopology, Topology>() {}

/** Lifts a harness Promise into an Effect failing with HarnessError. */
export const promise = <A>(f: () => Promise<A>): Effect.Effect<A, HarnessError> =>
  Effect.tryPromise({ try: f, catch: (e) => toHarnessError(e) })

/** Starts the topology; stops it (servers, nft tables, temp dirs) when the scope closes. */
export const make = (options: TopologyOptions): Effect.Effect<Topology, HarnessError, Scope.Scope> =>
  Effect.acquireRelease(
    promise(() => startTopology(options)),
    (topology) =>
      promise(() => topology.stop()).pipe(
        Effect.catchAll((e) => Effect.logWarning(`stopping the MariaDB topology failed: ${e.message}`))
      )
  )

export const layer = (options: TopologyOptions): Layer.Layer<MariaDbTopology, HarnessError> =>
  Layer.scoped(MariaDbTopology, make(options))

export const query = (
  instance: MariaDbInstance,
  sql: string,
  values: ReadonlyArray<unknown> = [],
  options: ConnectOptions = {}
): Effect.Effect<Array<Row>, HarnessError> => promise(() => instance.query(sql, values, options))

export const kill9 = (instance: MariaDbInstance): Effect.Effect<void, HarnessError> => promise(() => instance.kill9())

export const sigstop = (instance: MariaDbInstance): Effect.Effect<void, HarnessError> =>
  promise(() => instance.sigstop())

export const sigcont = (instance: MariaDbInstance): Effect.Effect<void, HarnessError> =>
  promise(() => instance.sigcont())

export const start = (instance: MariaDbInstance): Effect.Effect<void, HarnessError> => promise(() => instance.start())

export const shutdown = (instance: MariaDbInstance): Effect.Effect<void, HarnessError> =>
  promise(() => instance.shutdown())

export const restart = (instance: MariaDbInstance, options: RestartOptions = {}): Effect.Effect<void, HarnessError> =>
  promise(() => instance.restart(options))

/** Partitions the instance and heals it when the scope closes (or earlier with `heal`). */
export const partition = (
  instance: MariaDbInstance,
  mode: PartitionMode = "drop"
): Effect.Effect<void, HarnessError, Scope.Scope> =>
  Effect.acquireRelease(
    promise(() => instance.partition(mode)),
    () => promise(() => instance.heal()).pipe(Effect.ignore)
  )

export const heal = (instance: MariaDbInstance): Effect.Effect<void, HarnessError> => promise(() => instance.heal())

export const waitForReplication = (instance: MariaDbInstance, timeoutMs?: number): Effect.Effect<void, HarnessError> =>
  promise(() => instance.waitForReplication(timeoutMs))

export const syncReplicas = (topology: Topology, options: SyncOptions = {}): Effect.Effect<void, HarnessError> =>
  promise(() => topology.syncReplicas(options))
