/**
 * The raft state machine of an orchestrator node: committed entries are replicated ops applied to the
 * node's own backend (core/ops/Apply.ts), a batch in one transaction with the applied index, so replay
 * after a crash skips what is already there. A snapshot is the replicated tables (gzip'ed JSON, like
 * orchestrator's), restored atomically. Probe data stays local and is never in a snapshot.
 */
import { Effect, Either, Layer, PubSub } from "effect"
import * as zlib from "node:zlib"
import { type ReplicatedDump, Repository } from "../../core/backend/Repository.js"
import type { Reaction } from "../../core/ops/Apply.js"
import { applyOp } from "../../core/ops/Apply.js"
import { decodeOp } from "../../core/ops/Op.js"
import { StateMachine, StateMachineError, type StateMachineShape } from "../../core/raft/runtime/StateMachine.js"

interface SnapshotFile {
  readonly version: 1
  readonly appliedIndex: number
  readonly appliedTerm: number
  readonly tables: ReplicatedDump
}

export const make = (hub: PubSub.PubSub<Reaction>) =>
  Effect.gen(function*() {
    const repo = yield* Repository
    const smError = (op: string) => (e: { readonly message: string }) => new StateMachineError({ op, message: e.message, cause: e })
    let applied = (yield* Effect.mapError(repo.readAppliedIndex, smError("appliedIndex"))).index

    const shape: StateMachineShape<ReadonlyArray<Reaction>> = {
      appliedIndex: Effect.sync(() => applied),
      apply: (entries) =>
        Effect.gen(function*() {
          const fresh = entries.filter((e) => e.index > applied)
          if (fresh.length === 0) return entries.map(() => undefined)
          // The whole batch in one transaction, with the applied index written once at its end: a crash
          // leaves all of it or none, and replay skips what is there. Per-entry transactions cost a WAL
          // commit (locks, page writes) per op, which dominated a busy node's CPU.
          const byIndex = yield* repo.transaction(Effect.gen(function*() {
            const out = new Map<number, ReadonlyArray<Reaction>>()
            for (const entry of fresh) {
              if (entry.type !== "normal") continue
              const op = decodeOp(entry.data)
              if (Either.isLeft(op)) {
                // Every node decodes the same bytes the same way: skipping is deterministic, and loud.
                yield* Effect.logError("raft: skipping an undecodable op", { index: entry.index, error: op.left.message })
                continue
              }
              out.set(entry.index, yield* applyOp(op.right, entry.index))
            }
            const last = fresh[fresh.length - 1]!
            yield* repo.writeAppliedIndex(last.index, last.term)
            return out
          })).pipe(
            Effect.provideService(Repository, repo),
            // No tracing spans for the statements of a batch (nothing exports them; @effect/sql makes one per
            // statement, a visible share of the apply's CPU under load).
            Effect.withTracerEnabled(false)
          )
          applied = fresh[fresh.length - 1]!.index
          for (const reactions of byIndex.values()) if (reactions.length > 0) yield* PubSub.publishAll(hub, reactions)
          return entries.map((e) => byIndex.get(e.index))
        }).pipe(Effect.mapError(smError("apply"))),
      snapshot: Effect.gen(function*() {
        const { index, term } = yield* repo.readAppliedIndex
        const tables = yield* repo.dumpReplicated
        const file: SnapshotFile = { version: 1, appliedIndex: index, appliedTerm: term, tables }
        return { index, data: new Uint8Array(zlib.gzipSync(JSON.stringify(file))) }
      }).pipe(Effect.mapError(smError("snapshot"))),
      restore: (index, term, data) =>
        Effect.gen(function*() {
          const file = yield* Effect.try({
            try: () => JSON.parse(zlib.gunzipSync(data).toString("utf8")) as SnapshotFile,
            catch: (cause) => new StateMachineError({ op: "restore", message: `snapshot ${index} is not readable`, cause })
          })
          if (file.version !== 1) {
            return yield* Effect.fail(new StateMachineError({ op: "restore", message: `snapshot version ${file.version} unknown` }))
          }
          yield* repo.transaction(Effect.zipRight(repo.restoreReplicated(file.tables), repo.writeAppliedIndex(index, term))).pipe(
            Effect.mapError(smError("restore"))
          )
          applied = index
        })
    }
    return shape as StateMachineShape<unknown>
  })

export const layer = (hub: PubSub.PubSub<Reaction>) => Layer.effect(StateMachine, make(hub))
