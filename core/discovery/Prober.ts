/**
 * The probe port: read one MySQL/MariaDB server and return its `Instance`, or say why it could not.
 *
 * The mysql2 implementation lives in `adapters/mysql/MysqlProber.ts`; `makeMemory` below is a scripted
 * fleet for unit tests of the scheduler, the crawl and the cluster logic.
 *
 * Orchestrator facts matched here (`ReadTopologyInstanceBufferable`, spec orchestrator-compat §6):
 * - the instance key is the address probed; the returned Instance always carries exactly `key`
 *   (orchestrator would rewrite it with `@@hostname`, which every test instance reports the same);
 * - a probe that reads the global variables but fails later is a *partial* success
 *   (`last_check_partial_success`); one that cannot connect is not.
 */
import { Clock, Context, Data, Effect, type Either } from "effect"
import type { Instance } from "../topology/Instance.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import * as Key from "../topology/InstanceKey.js"

/**
 * Why a probe failed:
 * - `unknown-host`: the name does not resolve;
 * - `unreachable`: connection refused / no route (the server is down, or nothing listens there);
 * - `timeout`: connect or read did not complete in MySQLConnectTimeoutSeconds / MySQLDiscoveryReadTimeoutSeconds
 *   (a hung server, a black-holed port, or a peer that is not a MySQL server and never sends a handshake);
 * - `not-mysql`: something answered but not with the MySQL protocol;
 * - `access-denied`: the topology user was refused;
 * - `query`: connected, but a statement the probe needs failed (privileges, an unsupported server).
 */
export type ProbeFailureKind = "unknown-host" | "unreachable" | "timeout" | "not-mysql" | "access-denied" | "query"

export class ProbeError extends Data.TaggedError("ProbeError")<{
  readonly key: InstanceKey
  readonly kind: ProbeFailureKind
  readonly message: string
  /** The global variables were read before the failure (orchestrator `last_check_partial_success`). */
  readonly partialSuccess: boolean
  readonly cause?: unknown
}> {}

export interface ProbeRequest {
  readonly key: InstanceKey
  /** The instance as stored from the last probe: backend-derived fields are carried over, the version hints a warm probe. */
  readonly previous?: Instance | undefined
}

export class Prober extends Context.Tag("orchestrator/Prober")<Prober, {
  readonly probe: (request: ProbeRequest) => Effect.Effect<Instance, ProbeError>
  /**
   * Optional callback form of `probe` for the polling hot path: no fiber per probe (the fiber runtime was a
   * large share of the CPU per probe at thousands of probes/s). `done` is called exactly once, with what
   * `probe` would succeed or fail with. Discovery falls back to `probe` when absent (memory fleet).
   */
  readonly probeCallback?: (request: ProbeRequest, done: (result: Either.Either<Instance, ProbeError>) => void) => void
  /** Drops whatever the prober keeps for `key` (its connection); called when an instance is forgotten. */
  readonly release: (key: InstanceKey) => Effect.Effect<void>
  /** Round trips (COM_QUERY packets) sent since start, for benchmarks and tests. */
  readonly roundTrips: Effect.Effect<number>
}>() {}

// ---- memory implementation ---------------------------------------------------------------------------------

/** What a scripted server answers: an Instance (its check times are set at probe time) or a failure. */
export type MemoryServer =
  | { readonly _tag: "Up"; readonly instance: Instance }
  | { readonly _tag: "Down"; readonly kind: ProbeFailureKind }

export interface MemoryFleet {
  readonly set: (key: InstanceKey, server: MemoryServer) => void
  readonly update: (key: InstanceKey, f: (i: Instance) => Instance) => void
  readonly down: (key: InstanceKey, kind?: ProbeFailureKind) => void
  readonly remove: (key: InstanceKey) => void
  /** Probes received per `host:port`. */
  readonly probes: ReadonlyMap<string, number>
  readonly released: ReadonlyArray<string>
}

/**
 * A scripted fleet: unknown keys are `unreachable`. Probes succeed at once (no simulated latency), so the
 * scheduler can be driven by `TestClock`.
 */
export const makeMemory = (): { readonly fleet: MemoryFleet; readonly prober: Prober["Type"] } => {
  const servers = new Map<string, MemoryServer>()
  const probes = new Map<string, number>()
  const released: Array<string> = []
  let trips = 0
  const fleet: MemoryFleet = {
    set: (key, server) => void servers.set(Key.format(key), server),
    update: (key, f) => {
      const s = servers.get(Key.format(key))
      if (s !== undefined && s._tag === "Up") servers.set(Key.format(key), { _tag: "Up", instance: f(s.instance) })
    },
    down: (key, kind = "unreachable") => void servers.set(Key.format(key), { _tag: "Down", kind }),
    remove: (key) => void servers.delete(Key.format(key)),
    probes,
    released
  }
  const prober: Prober["Type"] = {
    probe: ({ key, previous }) =>
      Effect.gen(function*() {
        const k = Key.format(key)
        probes.set(k, (probes.get(k) ?? 0) + 1)
        trips++
        const s = servers.get(k)
        if (s === undefined || s._tag === "Down") {
          const kind = s?._tag === "Down" ? s.kind : "unreachable"
          return yield* Effect.fail(
            new ProbeError({ key, kind, message: `Can't connect to ${k} (memory fleet: ${kind})`, partialSuccess: false })
          )
        }
        const now = yield* Clock.currentTimeMillis
        const base = previous ?? s.instance
        return {
          ...s.instance,
          key,
          // backend-derived fields are carried over from the previous probe, as the real prober does
          clusterName: base.clusterName,
          suggestedClusterAlias: s.instance.suggestedClusterAlias,
          replicationDepth: base.replicationDepth,
          isCoMaster: base.isCoMaster,
          ancestryUuid: base.ancestryUuid,
          lastCheckedAt: now,
          lastSeenAt: now,
          lastAttemptedCheckAt: now,
          lastCheckValid: true,
          lastCheckPartialSuccess: true,
          lastDiscoveryLatencyMs: 0
        }
      }),
    release: (key) => Effect.sync(() => void released.push(Key.format(key))),
    roundTrips: Effect.sync(() => trips)
  }
  return { fleet, prober }
}
