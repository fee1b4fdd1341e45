/**
 * The history LockedSemiSyncMaster needs: since when a master's own binlog coordinates have not moved.
 *
 * orchestrator keeps it in `database_instance_stale_binlog_coordinates` (go/inst/instance_dao.go
 * `RecordStaleInstanceBinlogCoordinates`): when analysis says `LockedSemiSyncMasterHypothesis`, the
 * emergent operation deletes the row if the coordinates changed and inserts (hostname, port, file, pos,
 * first_seen=now) if absent. The next analysis calls the master `LockedSemiSyncMaster` once the current
 * coordinates equal the recorded ones and `first_seen < now - ReasonableLockedSemiSyncMasterSeconds`:
 * writes are stuck, not merely absent for one sample.
 *
 * Here the history is an explicit input of the pure analysis (`Snapshot.staleCoordinates`), advanced by the
 * pure `observe` after each analysis round. It is node-local memory (orchestrator's table is not replicated
 * either); `StaleCoordinatesStore` holds it for the node, `layerMemory` being the implementation.
 */
import { Context, Effect, Layer, Ref } from "effect"
import type { BinlogCoordinates } from "../topology/Instance.js"
import * as Key from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import type { ReplicationAnalysis } from "./ReplicationAnalysis.js"

export interface StaleEntry {
  readonly coordinates: BinlogCoordinates
  /** When these coordinates were first recorded, epoch ms. */
  readonly firstSeenAt: number
}

/** `host:port` → the recorded coordinates. */
export type StaleCoordinates = ReadonlyMap<string, StaleEntry>

export const empty: StaleCoordinates = new Map()

const sameCoordinates = (a: BinlogCoordinates, b: BinlogCoordinates): boolean =>
  a.logFile === b.logFile && a.logPos === b.logPos

/**
 * orchestrator's `is_stale_binlog_coordinates`: the current coordinates equal the recorded ones, recorded
 * strictly more than `seconds` ago.
 */
export const isStale = (
  history: StaleCoordinates,
  key: InstanceKey,
  current: BinlogCoordinates,
  now: number,
  seconds: number
): boolean => {
  const e = history.get(Key.format(key))
  return e !== undefined && sameCoordinates(e.coordinates, current) && e.firstSeenAt < now - seconds * 1000
}

/** `RecordStaleInstanceBinlogCoordinates`: keep the entry while the coordinates stay, restart it when they move. */
export const record = (
  history: StaleCoordinates,
  key: InstanceKey,
  coordinates: BinlogCoordinates,
  now: number
): StaleCoordinates => {
  const k = Key.format(key)
  const e = history.get(k)
  if (e !== undefined && sameCoordinates(e.coordinates, coordinates)) return history
  const next = new Map(history)
  next.set(k, { coordinates, firstSeenAt: now })
  return next
}

/**
 * Advances the history after an analysis round: records the coordinates of every
 * `LockedSemiSyncMasterHypothesis` (orchestrator's emergent operation), keeps those of
 * `LockedSemiSyncMaster`, and forgets every other instance — a lock that clears and comes back later
 * starts a new observation period (orchestrator keeps the old row until the coordinates move, which can
 * call a fresh lock "Locked" at once; forgetting is the conservative choice).
 */
export const observe = (
  history: StaleCoordinates,
  analyses: ReadonlyArray<ReplicationAnalysis>,
  now: number
): StaleCoordinates => {
  let next: StaleCoordinates = new Map()
  for (const a of analyses) {
    const k = Key.format(a.analyzedInstanceKey)
    if (a.analysis === "LockedSemiSyncMasterHypothesis") {
      const kept = history.get(k)
      if (kept !== undefined) (next as Map<string, StaleEntry>).set(k, kept)
      next = record(next, a.analyzedInstanceKey, a.analyzedInstanceBinlogCoordinates, now)
    } else if (a.analysis === "LockedSemiSyncMaster") {
      const kept = history.get(k)
      if (kept !== undefined) (next as Map<string, StaleEntry>).set(k, kept)
    }
  }
  return next
}

/** The node's stale-coordinates memory. */
export class StaleCoordinatesStore extends Context.Tag("orchestrator/StaleCoordinatesStore")<StaleCoordinatesStore, {
  readonly get: Effect.Effect<StaleCoordinates>
  /** Applies `observe` to the stored history. */
  readonly observe: (analyses: ReadonlyArray<ReplicationAnalysis>, now: number) => Effect.Effect<void>
}>() {}

export const makeMemory = Effect.map(Ref.make<StaleCoordinates>(empty), (ref) =>
  StaleCoordinatesStore.of({
    get: Ref.get(ref),
    observe: (analyses, now) => Ref.update(ref, (h) => observe(h, analyses, now))
  }))

export const layerMemory: Layer.Layer<StaleCoordinatesStore> = Layer.effect(StaleCoordinatesStore, makeMemory)
