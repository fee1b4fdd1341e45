/**
 * The node registers its own health: it upserts its node_health row every HealthPollSeconds (1 s),
 * as orchestrator does, and keeps the outcome for /api/health and /api/status. Rows not refreshed
 * for 5 s are expired (orchestrator's caretaker rule).
 */
import { Clock, Context, Effect, Layer, Ref, Schedule } from "effect"
import { type NodeHealth as NodeHealthRow, Repository } from "../core/backend/Repository.js"
import { NodeIdentity } from "../core/node/NodeIdentity.js"

export const HEALTH_POLL_MILLIS = 1000
const EXPIRE_AFTER_MILLIS = 5 * HEALTH_POLL_MILLIS

export interface HealthReport {
  readonly healthy: boolean
  readonly error: string | undefined
  /** When the row was last written successfully (epoch ms), 0 if never. */
  readonly lastReported: number
  readonly rows: ReadonlyArray<NodeHealthRow>
}

export class NodeHealth extends Context.Tag("orchestrator/NodeHealth")<NodeHealth, {
  readonly report: Effect.Effect<HealthReport>
  /** Writes the row now (also done every second by the loop). */
  readonly register: Effect.Effect<void>
}>() {}

export const make = Effect.gen(function*() {
  const repo = yield* Repository
  const id = yield* NodeIdentity
  const state = yield* Ref.make<HealthReport>({ healthy: false, error: "not registered yet", lastReported: 0, rows: [] })
  let indicator = 0

  const register = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    indicator++
    const written = yield* Effect.either(Effect.gen(function*() {
      yield* repo.upsertNodeHealth({
        hostname: id.hostname,
        token: id.token,
        lastSeenActive: now,
        firstSeenActive: id.startedAt,
        extraInfo: "",
        command: id.command,
        appVersion: id.appVersion,
        dbBackend: repo.dialect,
        incrementingIndicator: indicator
      })
      yield* repo.expireNodeHealth(now - EXPIRE_AFTER_MILLIS)
      return yield* repo.readNodeHealth
    }))
    if (written._tag === "Right") {
      yield* Ref.set(state, { healthy: true, error: undefined, lastReported: now, rows: written.right })
    } else {
      yield* Effect.logWarning("cannot register node health", written.left.message)
      yield* Ref.update(state, (s) => ({ ...s, healthy: false, error: written.left.message }))
    }
  })

  yield* register
  yield* Effect.forkScoped(Effect.repeat(register, Schedule.spaced(HEALTH_POLL_MILLIS)))
  return { report: Ref.get(state), register }
})

export const layer = Layer.scoped(NodeHealth, make)
