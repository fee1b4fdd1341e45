/**
 * The discovery service as the rest of the node sees it (implementation: service/Discovery.ts).
 *
 * Every node probes every instance itself (design.md "who owns which data"); probe results are local
 * rows, never replicated. Replicated `discover` / `forget` ops reach this service as CommandLog reactions.
 */
import { Context, type Effect } from "effect"
import type { RepositoryError } from "../backend/Repository.js"
import type { Instance } from "../topology/Instance.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import type { ProbeError } from "./Prober.js"

export interface DiscoveryStatus {
  /** Instances being polled. */
  readonly known: number
  readonly healthy: number
  /** Instances whose last probe failed (in the back-off queue). */
  readonly backoff: number
  readonly inFlight: number
  readonly probesOk: number
  readonly probesFailed: number
  /** now - last completed check (ok or failed), per instance that has one, in ms. */
  readonly stalenessMs: { readonly p50: number; readonly p99: number; readonly max: number }
}

export class Discovery extends Context.Tag("orchestrator/Discovery")<Discovery, {
  /**
   * Probes `key` now and waits for the result to be stored; the instance joins the polling schedule and its
   * master and replicas are crawled at once (orchestrator's `/api/discover`).
   */
  readonly discover: (key: InstanceKey) => Effect.Effect<Instance, ProbeError | RepositoryError>
  /** Re-probes a known or new instance now and stores it (orchestrator's `/api/refresh`); no crawl. */
  readonly refresh: (key: InstanceKey) => Effect.Effect<Instance, ProbeError | RepositoryError>
  /** Schedules a probe (with crawl) as soon as a worker is free, without waiting (async-discover, `discover` reactions). */
  readonly submit: (key: InstanceKey) => Effect.Effect<void>
  /** Moves these instances to the front of their queue (fast failure detection: issue 4 item 2). */
  readonly expedite: (keys: ReadonlyArray<InstanceKey>) => Effect.Effect<void>
  /** Stops polling `key` (after a replicated `forget`); crawling will not bring it back for 3 poll intervals. */
  readonly forget: (key: InstanceKey) => Effect.Effect<void>
  readonly status: Effect.Effect<DiscoveryStatus>
}>() {}
