/**
 * StableStore — the node's small durable state: the raft hard state (currentTerm, votedFor, commit index;
 * thesis Fig. 3.1 "Persistent state on all servers") and a few metadata strings (e.g. "has ever joined",
 * core/config RaftJoinTimeoutSeconds).
 *
 * Contract:
 *   - `readHardState` returns the last hard state written, or `emptyHardState` on a fresh store.
 *   - `writeHardState(hs)` is ATOMIC and DURABLE when it succeeds: after a crash the store reads back either
 *     the previous hard state or `hs`, never a mix, and `hs` once the call returned. A vote must be durable
 *     before the vote is granted, a term before any message of that term is sent (thesis §3.8).
 *   - `getMeta`/`setMeta`: the same guarantees per key. Keys and values are short strings (the durable store
 *     keeps hard state and metadata in one small record; together they must stay under 3 KiB).
 *   - Writes made before a LogStore `append` returned are not reordered after it: the runtime writes entries
 *     first, then the hard state that commits them (core/raft/State.ts "entries durable before hardState").
 * Compare hashicorp/raft stable.go (`StableStore`, 18 lines).
 */
import { Context, Effect, Layer, Option } from "effect"
import type { HardState } from "../Types.js"
import { emptyHardState } from "../Types.js"
import type { RaftStorageError } from "./StorageError.js"

export interface StableStoreShape {
  readonly readHardState: Effect.Effect<HardState, RaftStorageError>
  readonly writeHardState: (hardState: HardState) => Effect.Effect<void, RaftStorageError>
  readonly getMeta: (key: string) => Effect.Effect<Option.Option<string>, RaftStorageError>
  readonly setMeta: (key: string, value: string) => Effect.Effect<void, RaftStorageError>
}

export class StableStore extends Context.Tag("orchestrator/raft/StableStore")<StableStore, StableStoreShape>() {}

/** Metadata key set once this node has been part of a cluster (a leader's AppendEntries or a snapshot). */
export const metaHasJoined = "hasJoined"

export interface MemoryStableDisk {
  hardState: HardState
  meta: Map<string, string>
}

export const makeMemoryStableDisk = (): MemoryStableDisk => ({ hardState: emptyHardState, meta: new Map() })

export const makeMemory = (disk: MemoryStableDisk = makeMemoryStableDisk()): StableStoreShape => ({
  readHardState: Effect.sync(() => disk.hardState),
  writeHardState: (hardState) => Effect.sync(() => void (disk.hardState = { ...hardState })),
  getMeta: (key) => Effect.sync(() => Option.fromNullable(disk.meta.get(key))),
  setMeta: (key, value) => Effect.sync(() => void disk.meta.set(key, value))
})

export const layerMemory = (disk?: MemoryStableDisk): Layer.Layer<StableStore> =>
  Layer.sync(StableStore, () => makeMemory(disk))
