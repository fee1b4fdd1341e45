/**
 * The LogStore + StableStore contract (core/raft/ports/LogStore.ts, StableStore.ts), written once and run
 * against every implementation. A "disk" can be opened several times: the memory stores keep their state
 * in a shared object, the file stores in a directory, so "reopen keeps everything" is checked for both.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, type Layer, Option } from "effect"
import { entrySize, LogStore } from "../../core/raft/ports/LogStore.js"
import { StableStore } from "../../core/raft/ports/StableStore.js"
import type { RaftStorageError } from "../../core/raft/ports/StorageError.js"
import type { Entry } from "../../core/raft/Types.js"
import { emptyHardState } from "../../core/raft/Types.js"

export interface Disk {
  readonly open: () => Layer.Layer<LogStore | StableStore, RaftStorageError>
}

export const ent = (index: number, term: number, data = `e${index}t${term}`): Entry => ({
  index,
  term,
  type: index % 7 === 0 ? "noop" : "normal",
  data
})
export const range = (lo: number, hi: number, term: number): Array<Entry> =>
  Array.from({ length: hi - lo + 1 }, (_, k) => ent(lo + k, term))

/** Term of the batch of ten entries starting at index i in the reopen test. */
const batchTerm = (i: number) => Math.ceil(i / 50)

type Stores = { readonly log: LogStore["Type"]; readonly stable: StableStore["Type"] }

const reason = <A>(e: Effect.Effect<A, RaftStorageError>) =>
  Effect.map(Effect.either(e), (r) => (Either.isLeft(r) ? r.left.reason : "ok"))

export const logStoreSuite = (name: string, freshDisk: () => Disk) =>
  describe(`LogStore/StableStore contract on ${name}`, () => {
    const on = <A>(disk: Disk, body: (s: Stores) => Effect.Effect<A, RaftStorageError>) =>
      Effect.gen(function*() {
        const log = yield* LogStore
        const stable = yield* StableStore
        return yield* body({ log, stable })
      }).pipe(Effect.provide(disk.open()))
    const run = <A>(body: (s: Stores) => Effect.Effect<A, RaftStorageError>) => on(freshDisk(), body)
    const bounds = (log: LogStore["Type"]) => Effect.all([log.firstIndex, log.lastIndex])

    it.effect("a fresh store is empty: firstIndex 1, lastIndex 0, empty hard state", () =>
      run(({ log, stable }) =>
        Effect.gen(function*() {
          assert.deepStrictEqual(yield* bounds(log), [1, 0])
          assert.deepStrictEqual(yield* stable.readHardState, emptyHardState)
          assert.isTrue(Option.isNone(yield* log.term(1)))
          assert.deepStrictEqual(yield* log.entries(1, 1), [])
        })))

    it.effect("append then read ranges and terms", () =>
      run(({ log }) =>
        Effect.gen(function*() {
          yield* log.append(range(1, 5, 1))
          yield* log.append(range(6, 10, 2))
          assert.deepStrictEqual(yield* bounds(log), [1, 10])
          assert.deepStrictEqual(yield* log.entries(1, 11), [...range(1, 5, 1), ...range(6, 10, 2)])
          assert.deepStrictEqual(yield* log.entries(4, 7), [ent(4, 1), ent(5, 1), ent(6, 2)])
          assert.deepStrictEqual(yield* log.term(5), Option.some(1))
          assert.deepStrictEqual(yield* log.term(6), Option.some(2))
          assert.isTrue(Option.isNone(yield* log.term(0)))
          assert.isTrue(Option.isNone(yield* log.term(11)))
          assert.strictEqual(yield* reason(log.entries(0, 3)), "Compacted")
          assert.strictEqual(yield* reason(log.entries(5, 12)), "Unavailable")
          assert.strictEqual(yield* reason(log.entries(5, 4)), "Invalid")
        })))

    it.effect("entries stop at maxBytes but return at least one entry", () =>
      run(({ log }) =>
        Effect.gen(function*() {
          yield* log.append(range(1, 10, 1))
          const one = entrySize(ent(1, 1))
          assert.strictEqual((yield* log.entries(1, 11, one * 3)).length, 3)
          assert.strictEqual((yield* log.entries(1, 11, one * 3 + one - 1)).length, 3)
          assert.deepStrictEqual(yield* log.entries(2, 11, 1), [ent(2, 1)])
        })))

    it.effect("append over a suffix replaces it; gaps, disorder and falling terms are refused", () =>
      run(({ log }) =>
        Effect.gen(function*() {
          yield* log.append(range(1, 10, 1))
          yield* log.append([ent(6, 2), ent(7, 2)])
          assert.deepStrictEqual(yield* bounds(log), [1, 7])
          assert.deepStrictEqual(yield* log.entries(5, 8), [ent(5, 1), ent(6, 2), ent(7, 2)])
          assert.strictEqual(yield* reason(log.append([ent(9, 2)])), "NonContiguous")
          assert.strictEqual(yield* reason(log.append([ent(8, 2), ent(10, 2)])), "NonContiguous")
          assert.strictEqual(yield* reason(log.append([ent(8, 3), ent(9, 2)])), "Invalid")
          assert.strictEqual(yield* reason(log.append([ent(8, 1)])), "Invalid")
          assert.deepStrictEqual(yield* bounds(log), [1, 7])
          yield* log.append([])
          assert.deepStrictEqual(yield* bounds(log), [1, 7])
        })))

    it.effect("truncateSuffix drops entries from an index on; past the end it is a no-op", () =>
      run(({ log }) =>
        Effect.gen(function*() {
          yield* log.append(range(1, 10, 1))
          yield* log.truncateSuffix(11)
          assert.deepStrictEqual(yield* bounds(log), [1, 10])
          yield* log.truncateSuffix(4)
          assert.deepStrictEqual(yield* bounds(log), [1, 3])
          assert.isTrue(Option.isNone(yield* log.term(4)))
          yield* log.append(range(4, 6, 3))
          assert.deepStrictEqual(yield* log.entries(3, 7), [ent(3, 1), ...range(4, 6, 3)])
          yield* log.truncateSuffix(1)
          assert.deepStrictEqual(yield* bounds(log), [1, 0])
        })))

    it.effect("compactPrefix keeps everything above the index; past the end it empties the log", () =>
      run(({ log }) =>
        Effect.gen(function*() {
          yield* log.append(range(1, 200, 1))
          yield* log.compactPrefix(120)
          const [first, last] = yield* bounds(log)
          assert.isAtMost(first, 121)
          assert.strictEqual(last, 200)
          assert.deepStrictEqual(yield* log.entries(121, 201), range(121, 200, 1))
          if (first > 1) assert.strictEqual(yield* reason(log.entries(first - 1, first)), "Compacted")
          yield* log.compactPrefix(300)
          assert.deepStrictEqual(yield* bounds(log), [301, 300])
          yield* log.append(range(301, 303, 4))
          assert.deepStrictEqual(yield* bounds(log), [301, 303])
          assert.deepStrictEqual(yield* log.entries(301, 304), range(301, 303, 4))
        })))

    it.effect("an empty log accepts an append at any index (a log restarting after a snapshot)", () =>
      run(({ log }) =>
        Effect.gen(function*() {
          yield* log.append(range(100, 102, 5))
          assert.deepStrictEqual(yield* bounds(log), [100, 102])
          assert.strictEqual(yield* reason(log.append([ent(99, 5)])), "Compacted")
        })))

    it.effect("hard state and metadata round-trip", () =>
      run(({ stable }) =>
        Effect.gen(function*() {
          yield* stable.writeHardState({ term: 3, vote: "127.0.0.1:10008", commit: 17 })
          yield* stable.setMeta("hasJoined", "true")
          yield* stable.writeHardState({ term: 4, vote: "", commit: 18 })
          assert.deepStrictEqual(yield* stable.readHardState, { term: 4, vote: "", commit: 18 })
          assert.deepStrictEqual(yield* stable.getMeta("hasJoined"), Option.some("true"))
          assert.isTrue(Option.isNone(yield* stable.getMeta("toString")))
        })))

    it.effect("reopening keeps the log, the hard state and the metadata", () =>
      Effect.gen(function*() {
        const disk = freshDisk()
        yield* on(disk, ({ log, stable }) =>
          Effect.gen(function*() {
            for (let i = 1; i <= 300; i += 10) yield* log.append(range(i, i + 9, batchTerm(i)))
            yield* log.append(range(295, 305, 9))
            yield* log.truncateSuffix(303)
            yield* log.compactPrefix(50)
            yield* stable.writeHardState({ term: 9, vote: "n2", commit: 290 })
            yield* stable.setMeta("hasJoined", "yes")
          }))
        const after = yield* on(disk, ({ log, stable }) =>
          Effect.gen(function*() {
            const [first, last] = yield* bounds(log)
            return { first, last, entries: yield* log.entries(51, last + 1), hs: yield* stable.readHardState, meta: yield* stable.getMeta("hasJoined") }
          }))
        assert.isAtMost(after.first, 51)
        assert.strictEqual(after.last, 302)
        const expected = [
          ...Array.from({ length: 244 }, (_, k) => ent(51 + k, batchTerm(Math.floor((50 + k) / 10) * 10 + 1))),
          ...range(295, 302, 9)
        ]
        assert.deepStrictEqual(after.entries, expected)
        assert.deepStrictEqual(after.hs, { term: 9, vote: "n2", commit: 290 })
        assert.deepStrictEqual(after.meta, Option.some("yes"))
        // And a third open still appends where the log ends.
        yield* on(disk, ({ log }) => log.append([ent(303, 9)]))
        assert.strictEqual(yield* on(disk, ({ log }) => log.lastIndex), 303)
      }))
  })
