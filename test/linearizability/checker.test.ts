/**
 * The linearizability checker (test/support/linearizability.ts) on hand-made histories whose verdict is
 * known, and on generated ones: a history built from a sequential execution, whatever the overlaps drawn
 * around each operation's linearization point, is always accepted; a read changed to a value that could
 * not have been read is always rejected.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import {
  check,
  type KvInput,
  type KvOutput,
  kvModel,
  type Model,
  type Operation,
  pruneUnobservedPendingPuts
} from "../support/linearizability.js"

type Op = Operation<KvInput, KvOutput>

const put = (clientId: number, key: string, value: string, call: number, ret: number): Op => ({
  clientId,
  input: { key, op: "put", value },
  output: ret === Infinity ? { kind: "unknown" } : { kind: "ok" },
  call,
  return: ret
})
const del = (clientId: number, key: string, call: number, ret: number): Op => ({
  clientId,
  input: { key, op: "delete" },
  output: ret === Infinity ? { kind: "unknown" } : { kind: "ok" },
  call,
  return: ret
})
const get = (clientId: number, key: string, value: string | null, call: number, ret: number): Op => ({
  clientId,
  input: { key, op: "get" },
  output: { kind: "value", value },
  call,
  return: ret
})

const verdict = (history: ReadonlyArray<Op>) => check(kvModel, history)._tag

describe("linearizability checker: hand-made histories", () => {
  it("accepts a sequential history and the empty one", () => {
    expect(verdict([])).toBe("Ok")
    expect(verdict([
      get(0, "x", null, 0, 1),
      put(0, "x", "1", 2, 3),
      get(1, "x", "1", 4, 5),
      del(1, "x", 6, 7),
      get(0, "x", null, 8, 9)
    ])).toBe("Ok")
  })

  it("rejects a stale read: a value overwritten before the read began", () => {
    const r = check(kvModel, [
      put(0, "x", "1", 0, 10),
      put(0, "x", "2", 20, 30),
      get(1, "x", "1", 40, 50)
    ])
    expect(r._tag).toBe("Illegal")
    if (r._tag === "Illegal") {
      // The diagnostics name the read that could not be placed.
      expect(r.failure.stuck.join("\n")).toContain("x get -> \"1\"")
      expect(r.failure.stateAfterPrefix).toBe("\"2\"")
    }
  })

  it("rejects a lost write: an acknowledged put not seen by a later read", () => {
    expect(verdict([put(0, "x", "1", 0, 10), get(1, "x", null, 20, 30)])).toBe("Illegal")
    // ...and a read that sees the value before the write was even called.
    expect(verdict([get(1, "x", "1", 0, 5), put(0, "x", "1", 10, 20)])).toBe("Illegal")
  })

  it("accepts either order of two concurrent writes, but nothing else", () => {
    const writes = [put(0, "x", "1", 0, 10), put(1, "x", "2", 5, 15)]
    expect(verdict([...writes, get(2, "x", "1", 20, 30)])).toBe("Ok")
    expect(verdict([...writes, get(2, "x", "2", 20, 30)])).toBe("Ok")
    expect(verdict([...writes, get(2, "x", "3", 20, 30)])).toBe("Illegal")
    expect(verdict([...writes, get(2, "x", null, 20, 30)])).toBe("Illegal")
    // Once two sequential reads saw 2 then 1, the writes were ordered both ways: impossible.
    expect(verdict([...writes, get(2, "x", "2", 20, 30), get(2, "x", "1", 40, 50)])).toBe("Illegal")
  })

  it("lets a read overlapping a write see the old or the new value", () => {
    expect(verdict([put(0, "x", "1", 0, 10), put(0, "x", "2", 20, 40), get(1, "x", "1", 25, 30)])).toBe("Ok")
    expect(verdict([put(0, "x", "1", 0, 10), put(0, "x", "2", 20, 40), get(1, "x", "2", 25, 30)])).toBe("Ok")
    // Two reads inside the write: new then old is not linearizable (no going back).
    expect(verdict([
      put(0, "x", "1", 0, 10),
      put(0, "x", "2", 20, 60),
      get(1, "x", "2", 25, 30),
      get(1, "x", "1", 35, 40)
    ])).toBe("Illegal")
  })

  it("treats an operation that never returned as possibly applied, at any time after its call", () => {
    const base = [put(0, "x", "1", 0, 10), put(1, "x", "2", 5, Infinity)]
    // Applied, not applied, or applied late: all fine.
    expect(verdict([...base, get(2, "x", "2", 20, 30)])).toBe("Ok")
    expect(verdict([...base, get(2, "x", "1", 20, 30)])).toBe("Ok")
    expect(verdict([...base, get(2, "x", "1", 20, 30), get(2, "x", "2", 1000, 1001)])).toBe("Ok")
    // But once seen applied it stays applied (no later write could undo it).
    expect(verdict([...base, get(2, "x", "2", 20, 30), get(2, "x", "1", 40, 50)])).toBe("Illegal")
    // It cannot take effect before it was called.
    expect(verdict([put(0, "x", "1", 0, 10), get(2, "x", "2", 12, 14), put(1, "x", "2", 20, Infinity)])).toBe("Illegal")
    // A pending delete, likewise.
    expect(verdict([put(0, "x", "1", 0, 10), del(1, "x", 12, Infinity), get(2, "x", null, 20, 30), get(2, "x", "1", 40, 50)]))
      .toBe("Illegal")
  })

  it("accepts any output of a read whose answer is unknown", () => {
    const unknownRead: Op = { clientId: 3, input: { key: "x", op: "get" }, output: { kind: "unknown" }, call: 15, return: Infinity }
    expect(verdict([put(0, "x", "1", 0, 10), unknownRead, get(1, "x", "1", 20, 30)])).toBe("Ok")
  })

  it("checks keys independently: a violation on one key is found among many clean ones", () => {
    const clean = Array.from({ length: 20 }, (_, k) => [
      put(k, `k${k}`, "a", 0, 10),
      get(k, `k${k}`, "a", 20, 30)
    ]).flat()
    const r = check(kvModel, [...clean, put(99, "bad", "1", 0, 10), get(98, "bad", null, 20, 30)])
    expect(r._tag).toBe("Illegal")
    if (r._tag === "Illegal") {
      expect(r.partitions).toBe(21)
      expect(r.failure.stuck.join("\n")).toContain("bad get -> null")
    }
    expect(check(kvModel, clean)).toMatchObject({ _tag: "Ok", partitions: 20, operations: 40 })
  })

  it("counts operations touching at one instant as concurrent", () => {
    // The write returns at 10 and the read is called at 10: the clock cannot order them.
    expect(verdict([put(0, "x", "1", 0, 10), get(1, "x", null, 10, 12)])).toBe("Ok")
  })

  it("reports Unknown, never Ok, when the step budget runs out", () => {
    // Many mutually concurrent writes and a read of a value nobody wrote: the search must explore.
    const writes = Array.from({ length: 12 }, (_, i) => put(i, "x", `v${i}`, 0, 100))
    const r = check(kvModel, [...writes, get(50, "x", "nobody", 200, 201)], { maxSteps: 50 })
    expect(r._tag).toBe("Unknown")
  })

  it("finds a violation behind many pending deletes (they are searched in call order, not in every order)", () => {
    // 40 deletes of unknown outcome, each concurrent with everything after its call, then a stale read.
    // Without the symmetry between them a failing search would visit up to 2^40 subsets.
    const pendingDeletes = Array.from({ length: 40 }, (_, i) => del(i + 10, "x", 100 + i, Infinity))
    const history = [
      put(0, "x", "1", 0, 10),
      ...pendingDeletes,
      put(1, "x", "2", 200, 210),
      get(2, "x", "1", 300, 310)
    ]
    expect(check(kvModel, history, { maxSteps: 200_000 })._tag).toBe("Illegal")
    expect(check(kvModel, history.slice(0, -1).concat(get(2, "x", null, 300, 310)), { maxSteps: 200_000 })._tag).toBe("Ok")
  })

  it("prunes only pending puts whose value nobody read", () => {
    const history = [
      put(0, "x", "seen", 0, Infinity),
      put(1, "x", "unseen", 0, Infinity),
      put(2, "x", "acked", 0, 10),
      put(2, "y", "seen", 20, Infinity),
      get(3, "x", "seen", 20, 30)
    ]
    // "seen" on y was never read on y: the key matters.
    expect(pruneUnobservedPendingPuts(history).map((op) => op.input.op === "put" ? `${op.input.key}=${op.input.value}` : "get"))
      .toEqual(["x=seen", "x=acked", "get"])
  })

  it("rejects a history whose operation returns before its call", () => {
    expect(() => check(kvModel, [put(0, "x", "1", 10, 5)])).toThrow(/returns before it is called/)
  })

  it("works with any model: a counter whose increments return the new value", () => {
    const counter: Model<number, "inc", number> = {
      init: () => 0,
      step: (s, _i, out) => [out === s + 1, s + 1],
      equal: (a, b) => a === b,
      hash: String
    }
    const op = (clientId: number, output: number, call: number, ret: number): Operation<"inc", number> =>
      ({ clientId, input: "inc", output, call, return: ret })
    expect(check(counter, [op(0, 2, 0, 10), op(1, 1, 5, 15)])._tag).toBe("Ok")
    expect(check(counter, [op(0, 2, 0, 10), op(1, 1, 12, 15)])._tag).toBe("Illegal")
  })
})

// ---- property tests ----------------------------------------------------------------------------------

interface Drawn {
  readonly kind: "put" | "delete" | "get"
  readonly key: number
  readonly before: number
  readonly after: number
}

const drawnOp = (keys: number, window: number) =>
  fc.record({
    kind: fc.constantFrom<Drawn["kind"]>("put", "put", "delete", "get", "get", "get"),
    key: fc.nat(keys - 1),
    before: fc.nat(window),
    after: fc.nat(window)
  })

/**
 * Runs the drawn operations in sequence on a register per key: operation i takes effect at time 10·i,
 * inside [call, return] = [10·i − before, 10·i + after]. Some writes are made pending (return = ∞, output
 * unknown). Every such history is linearizable by construction (the linearization points are the 10·i).
 */
const fromSequential = (drawn: ReadonlyArray<Drawn>, pendingEvery: number): Array<Op> => {
  const state = new Map<string, string | null>()
  return drawn.map((d, i) => {
    const key = `k${d.key}`
    const at = 10 * (i + 1)
    const call = at - d.before
    const ret = at + d.after
    const clientId = i
    if (d.kind === "get") return get(clientId, key, state.get(key) ?? null, call, ret)
    const pending = pendingEvery > 0 && i % pendingEvery === pendingEvery - 1
    if (d.kind === "put") {
      const value = `v${i}`
      state.set(key, value)
      return put(clientId, key, value, call, pending ? Infinity : ret)
    }
    state.set(key, null)
    return del(clientId, key, call, pending ? Infinity : ret)
  })
}

describe("linearizability checker: generated histories", () => {
  it.prop(
    "a history from a sequential execution with random overlaps is always accepted",
    [fc.array(drawnOp(3, 35), { minLength: 1, maxLength: 60 }), fc.integer({ min: 0, max: 7 })],
    ([drawn, pendingEvery]) => {
      expect(check(kvModel, fromSequential(drawn, pendingEvery))._tag).toBe("Ok")
    }
  )

  it.prop(
    "a read corrupted to a value no write produced is always rejected",
    [fc.array(drawnOp(2, 35), { minLength: 1, maxLength: 50 }), fc.nat(), fc.integer({ min: 0, max: 5 })],
    ([drawn, pick, pendingEvery]) => {
      const history = fromSequential(drawn, pendingEvery)
      const reads = history.map((op, i) => ({ op, i })).filter((x) => x.op.input.op === "get")
      fc.pre(reads.length > 0)
      const victim = reads[pick % reads.length]!
      const never = { kind: "value", value: "never-written" } as const
      const corrupted = history.map((op, i) => (i === victim.i ? { ...op, output: never } : op))
      expect(check(kvModel, corrupted)._tag).toBe("Illegal")
    }
  )

  it.prop(
    "pruning unobserved pending puts never changes the verdict",
    [fc.array(drawnOp(2, 35), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 4 }), fc.nat(), fc.boolean()],
    ([drawn, pendingEvery, pick, corrupt]) => {
      let history = fromSequential(drawn, pendingEvery)
      const reads = history.map((op, i) => ({ op, i })).filter((x) => x.op.input.op === "get")
      if (corrupt && reads.length > 0) {
        // A read moved to another written value: sometimes still linearizable, sometimes not.
        const victim = reads[pick % reads.length]!
        const written = history.flatMap((op) => (op.input.op === "put" ? [op.input.value] : []))
        const value = written.length === 0 ? null : written[pick % written.length]!
        history = history.map((op, i) => (i === victim.i ? { ...op, output: { kind: "value", value } as const } : op))
      }
      expect(check(kvModel, pruneUnobservedPendingPuts(history))._tag).toBe(check(kvModel, history)._tag)
    }
  )

  it.prop(
    "in a history without overlaps, any read changed to another value is rejected",
    [fc.array(drawnOp(2, 0), { minLength: 1, maxLength: 50 }), fc.nat()],
    ([drawn, pick]) => {
      // Zero-width intervals at distinct times: exactly one order is possible, so every read is determined.
      const history = fromSequential(drawn, 0)
      const reads = history.map((op, i) => ({ op, i })).filter((x) => x.op.input.op === "get")
      fc.pre(reads.length > 0)
      const victim = reads[pick % reads.length]!
      const truth = victim.op.output.kind === "value" ? victim.op.output.value : null
      // Another value that was actually written somewhere in the history, or absent, or a stranger.
      const written = history.flatMap((op) => (op.input.op === "put" ? [op.input.value] : []))
      const candidates = [...written, null, "stranger"].filter((v) => v !== truth)
      const wrong = candidates[pick % candidates.length]!
      const corrupted = history.map((op, i) => (i === victim.i ? { ...op, output: { kind: "value", value: wrong } as const } : op))
      expect(check(kvModel, corrupted)._tag).toBe("Illegal")
    }
  )
})
