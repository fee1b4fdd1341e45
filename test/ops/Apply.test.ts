import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, Layer } from "effect"
import * as FastCheck from "effect/FastCheck"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { Repository } from "../../core/backend/Repository.js"
import { applyOp } from "../../core/ops/Apply.js"
import { decodeOp, encodeOp, Op } from "../../core/ops/Op.js"
import * as Model from "../../core/topology/Instance.js"
import * as Key from "../../core/topology/InstanceKey.js"
import { toRecord } from "../../core/topology/InstanceRecord.js"

const memory = () => layerSqlite({ filename: ":memory:" }) as Layer.Layer<Repository, never>
const k1 = { hostname: "db1", port: 3306 }

const applyAll = (ops: ReadonlyArray<Op>) =>
  Effect.gen(function*() {
    const repo = yield* Repository
    for (const [i, op] of ops.entries()) {
      yield* repo.transaction(Effect.zipRight(applyOp(op, i + 1), repo.writeAppliedIndex(i + 1, 1)))
    }
    return yield* repo.dumpReplicated
  })

describe("replicated ops", () => {
  it("round-trip through their JSON log form", () => {
    FastCheck.assert(
      FastCheck.property(Arbitrary.make(Op), (op) => {
        const decoded = decodeOp(encodeOp(op))
        assert.isTrue(Either.isRight(decoded))
        assert.deepStrictEqual(Either.getOrThrow(decoded), op)
      }),
      { numRuns: 1000 }
    )
  })

  it("refuse unknown ops and malformed payloads with a ParseError", () => {
    assert.isTrue(Either.isLeft(decodeOp("{\"_tag\":\"drop-database\"}")))
    assert.isTrue(Either.isLeft(decodeOp("{\"_tag\":\"forget\",\"key\":{\"hostname\":\"h\",\"port\":0}}")))
    assert.isTrue(Either.isLeft(decodeOp("not json")))
  })

  it.effect("apply downtime, tags, KV, candidates, recovery switch and records", () =>
    Effect.gen(function*() {
      const repo = yield* Repository
      const reactions = yield* Effect.forEach([
        { _tag: "begin-downtime", key: k1, owner: "ops", reason: "r", beginTimestamp: 10, endTimestamp: 10_000 },
        { _tag: "put-instance-tag", key: k1, tagName: "role", tagValue: "oltp" },
        { _tag: "put-key-value", key: "mysql/master/c", value: "db1:3306", at: 5 },
        { _tag: "register-candidate", key: k1, promotionRule: "prefer", lastSuggested: 100, priority: 1 },
        { _tag: "disable-global-recoveries" },
        { _tag: "leader-uri", uri: "http://a:3000", raftAddress: "a:10008" },
        { _tag: "discover", key: k1 },
        { _tag: "yield", raftAddress: "a:10008" }
      ] satisfies ReadonlyArray<Op>, (op, i) => applyOp(op, i + 1))
      assert.deepStrictEqual(reactions.flat(), [
        { _tag: "LeaderUri", uri: "http://a:3000", raftAddress: "a:10008" },
        { _tag: "Probe", key: k1 },
        { _tag: "Yield", exceptRaftAddress: "a:10008" }
      ])
      assert.strictEqual((yield* repo.readActiveDowntimes(100)).length, 1)
      assert.strictEqual((yield* repo.readTags(k1))[0]?.tagValue, "oltp")
      assert.strictEqual(yield* repo.getKV("mysql/master/c"), "db1:3306")
      assert.strictEqual((yield* repo.readCandidates(0))[0]?.promotionRule, "prefer")
      assert.isTrue(yield* repo.isGlobalRecoveriesDisabled)
      assert.strictEqual(yield* repo.getMeta("leader-uri"), "http://a:3000")
      yield* applyOp({ _tag: "end-downtime", key: k1 })
      yield* applyOp({ _tag: "delete-instance-tag", key: k1, tagName: null })
      yield* applyOp({ _tag: "enable-global-recoveries" })
      assert.strictEqual((yield* repo.readActiveDowntimes(100)).length, 0)
      assert.strictEqual((yield* repo.readTags(k1)).length, 0)
      assert.isFalse(yield* repo.isGlobalRecoveriesDisabled)
    }).pipe(Effect.provide(memory())))

  it.effect("rows created by ops take the log index as id, whatever the backend's history", () =>
    Effect.gen(function*() {
      const repo = yield* Repository
      yield* applyOp({
        _tag: "begin-maintenance",
        key: k1,
        owner: "o",
        reason: "r",
        beginTimestamp: 1,
        endTimestamp: 1000,
        processingNodeHostname: "n",
        processingNodeToken: "t",
        explicitlyBounded: false
      }, 41)
      assert.strictEqual((yield* repo.readActiveMaintenance(0))[0]?.id, 41)
      yield* applyOp({ _tag: "end-maintenance", key: null, maintenanceId: 41 }, 42)
      assert.strictEqual((yield* repo.readActiveMaintenance(0)).length, 0)
    }).pipe(Effect.provide(memory())))

  it("any op sequence gives identical replicated tables on two nodes, and a snapshot restores them exactly", async () => {
    // A small op vocabulary over few keys, so ops collide (same instance, same cluster) as in life.
    const key = FastCheck.constantFrom(k1, { hostname: "db2", port: 3306 }, { hostname: "db3", port: 3307 })
    const opArb: FastCheck.Arbitrary<Op> = FastCheck.oneof(
      FastCheck.record({
        _tag: FastCheck.constant("begin-downtime" as const),
        key,
        owner: FastCheck.constantFrom("a", "b"),
        reason: FastCheck.string({ maxLength: 5 }),
        beginTimestamp: FastCheck.nat(1000),
        endTimestamp: FastCheck.nat(100_000)
      }),
      FastCheck.record({ _tag: FastCheck.constant("end-downtime" as const), key }),
      FastCheck.record({
        _tag: FastCheck.constant("put-instance-tag" as const),
        key,
        tagName: FastCheck.constantFrom("x", "y"),
        tagValue: FastCheck.string({ maxLength: 4 })
      }),
      FastCheck.record({
        _tag: FastCheck.constant("delete-instance-tag" as const),
        key,
        tagName: FastCheck.constantFrom("x", null)
      }),
      FastCheck.record({
        _tag: FastCheck.constant("begin-maintenance" as const),
        key,
        owner: FastCheck.constant("o"),
        reason: FastCheck.constant("r"),
        beginTimestamp: FastCheck.nat(100),
        endTimestamp: FastCheck.nat(1000),
        processingNodeHostname: FastCheck.constant("n"),
        processingNodeToken: FastCheck.constant("t"),
        explicitlyBounded: FastCheck.boolean()
      }),
      FastCheck.record({ _tag: FastCheck.constant("end-maintenance" as const), key, maintenanceId: FastCheck.constant(null) }),
      FastCheck.record({
        _tag: FastCheck.constant("put-key-value" as const),
        key: FastCheck.constantFrom("k1", "k2"),
        value: FastCheck.string({ maxLength: 4 }),
        at: FastCheck.nat(100)
      }),
      FastCheck.constant({ _tag: "disable-global-recoveries" as const }),
      FastCheck.constant({ _tag: "enable-global-recoveries" as const }),
      FastCheck.record({
        _tag: FastCheck.constant("write-recovery-step" as const),
        recoveryUid: FastCheck.constantFrom("u1", "u2"),
        auditAt: FastCheck.nat(100),
        message: FastCheck.string({ maxLength: 8 })
      })
    )
    await FastCheck.assert(
      FastCheck.asyncProperty(FastCheck.array(opArb, { maxLength: 25 }), async (ops) => {
        const a = await Effect.runPromise(applyAll(ops).pipe(Effect.provide(memory())))
        const b = await Effect.runPromise(applyAll(ops).pipe(Effect.provide(memory())))
        assert.deepStrictEqual(a, b)
        const restored = await Effect.runPromise(Effect.gen(function*() {
          const repo = yield* Repository
          // Existing rows must go: restore replaces, never merges.
          yield* applyOp({ _tag: "put-key-value", key: "stale", value: "x", at: 1 })
          yield* repo.transaction(repo.restoreReplicated(a))
          return yield* repo.dumpReplicated
        }).pipe(Effect.provide(memory())))
        assert.deepStrictEqual(restored, a)
      }),
      { numRuns: 40 }
    )
  })
})

describe("forget-cluster", () => {
  it.effect("forgets every member and tells each node to stop polling them (a Forgotten reaction per member)", () =>
    Effect.gen(function*() {
      const repo = yield* Repository
      const member = (host: string, cluster: string) =>
        toRecord({ ...Model.empty(Key.unsafeMake(host, 3306)), clusterName: cluster, lastCheckedAt: 1, lastSeenAt: 1 })
      yield* repo.writeInstances([member("a", "a:3306"), member("b", "a:3306"), member("c", "c:3306")])
      const reactions = yield* applyOp({ _tag: "forget-cluster", clusterName: "a:3306" }, 1)
      assert.deepStrictEqual(
        [...reactions].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y))),
        [{ _tag: "Forgotten", key: { hostname: "a", port: 3306 } }, { _tag: "Forgotten", key: { hostname: "b", port: 3306 } }]
      )
      assert.deepStrictEqual((yield* repo.readInstances).map((r) => r.key.hostname), ["c"])
    }).pipe(Effect.provide(memory())))
})
