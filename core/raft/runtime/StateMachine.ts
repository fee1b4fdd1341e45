/**
 * The raft state machine port (hashicorp/raft's FSM): what the runtime applies committed entries to.
 *
 * Contract:
 *   - `apply(entries)` is deterministic: the same entries in the same order give the same state on every
 *     node. It gets committed entries in index order, in batches (noop and config entries included, so the
 *     machine can record its applied index); entries at or below `appliedIndex` must be ignored, which makes
 *     replay after a crash harmless. It answers one result per entry (undefined for skipped ones), handed
 *     to whoever proposed the entry on this node. A batch may be applied atomically (one backend
 *     transaction for many ops is what makes a busy leader fast); after a crash it is either all there or
 *     replayed.
 *   - `appliedIndex` is durable: after a restart it tells the runtime where the machine stands.
 *   - `snapshot` captures the state at `appliedIndex`, quickly, as bytes; `restore` discards everything
 *     and loads a snapshot (atomically: a crash during restore leaves the old state or the new one).
 */
import { Context, Data, type Effect } from "effect"
import type { Entry, Index, Term } from "../Types.js"

export class StateMachineError extends Data.TaggedError("StateMachineError")<{
  readonly op: string
  readonly message: string
  readonly cause?: unknown
}> {}

export interface StateMachineShape<Result> {
  readonly appliedIndex: Effect.Effect<Index, StateMachineError>
  readonly apply: (entries: ReadonlyArray<Entry>) => Effect.Effect<ReadonlyArray<Result | undefined>, StateMachineError>
  readonly snapshot: Effect.Effect<{ readonly index: Index; readonly data: Uint8Array }, StateMachineError>
  readonly restore: (index: Index, term: Term, data: Uint8Array) => Effect.Effect<void, StateMachineError>
}

/** The node's state machine; results are opaque to raft (`unknown`), typed by the wiring layer. */
export class StateMachine extends Context.Tag("orchestrator/raft/StateMachine")<StateMachine, StateMachineShape<unknown>>() {}
