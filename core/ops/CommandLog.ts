/**
 * The replicated command log, as the rest of the node sees it: propose an op and learn when it has
 * been committed and applied here. A mutation is acknowledged to a client only after `propose`
 * succeeds, i.e. after commit (never before). In raft mode the implementation proposes through raft
 * on the leader; without raft, `layerLocal` applies directly (the node is its own quorum).
 */
import { Context, Effect, Layer, PubSub, Queue, type Scope, Schema } from "effect"
import { Repository, type RepositoryError } from "../backend/Repository.js"
import { applyOp, type Reaction } from "./Apply.js"
import type { Op } from "./Op.js"

/** Raised on a node that is not the leader (it cannot propose). Crosses HTTP, hence Schema. */
export class NotLeader extends Schema.TaggedError<NotLeader>()("NotLeader", {
  leaderHttpUri: Schema.NullOr(Schema.String)
}) {
  override get message() {
    return this.leaderHttpUri === null ? "no raft leader is known" : `not the raft leader (leader: ${this.leaderHttpUri})`
  }
}

/** The op could not be committed (lost leadership, timeout, backend failure). It may or may not apply later. */
export class ProposalFailed extends Schema.TaggedError<ProposalFailed>()("ProposalFailed", {
  reason: Schema.String
}) {
  override get message() {
    return `replicated op not committed: ${this.reason}`
  }
}

export type CommandLogError = NotLeader | ProposalFailed

export class CommandLog extends Context.Tag("orchestrator/CommandLog")<CommandLog, {
  /** Resolves once the op is committed and applied on this node, with the op's local reactions. */
  readonly propose: (op: Op) => Effect.Effect<ReadonlyArray<Reaction>, CommandLogError>
  /** Reactions of every applied op (from any proposer), for local follow-ups such as probing. */
  readonly reactions: Effect.Effect<Queue.Dequeue<Reaction>, never, Scope.Scope>
}>() {}

/** Applies one op at `index` and records the index, atomically. */
export const applyAt = (op: Op, index: number, term: number) =>
  Effect.gen(function*() {
    const repo = yield* Repository
    return yield* repo.transaction(Effect.gen(function*() {
      const reactions = yield* applyOp(op, index)
      yield* repo.writeAppliedIndex(index, term)
      return reactions
    }))
  })

/** Single node without raft: ops apply at once, in order, with consecutive indexes. */
export const makeLocal = Effect.gen(function*() {
  const repo = yield* Repository
  const hub = yield* PubSub.unbounded<Reaction>()
  const lock = yield* Effect.makeSemaphore(1)
  const propose = (op: Op) =>
    lock.withPermits(1)(Effect.gen(function*() {
      const { index } = yield* repo.readAppliedIndex
      const reactions = yield* applyAt(op, index + 1, 0).pipe(Effect.provideService(Repository, repo))
      yield* PubSub.publishAll(hub, reactions)
      return reactions
    })).pipe(
      Effect.catchTag("RepositoryError", (e: RepositoryError) => Effect.fail(new ProposalFailed({ reason: e.message })))
    )
  return { propose, reactions: PubSub.subscribe(hub) }
})

export const layerLocal = Layer.effect(CommandLog, makeLocal)
