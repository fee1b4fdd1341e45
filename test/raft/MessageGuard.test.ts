/**
 * The compiled Message guard must accept exactly what `Schema.decodeUnknown(Message)` accepts: checked on
 * arbitrary valid messages (from the schema) and on arbitrary mutations of them and arbitrary JSON.
 */
import { describe, expect, it } from "@effect/vitest"
import { Arbitrary, Either, FastCheck as fc, Schema } from "effect"
import { Message } from "../../core/raft/Message.js"
import { compileGuard } from "../../core/raft/MessageGuard.js"

const guard = compileGuard(Message.ast)
const decodes = (u: unknown) => Either.isRight(Schema.decodeUnknownEither(Message)(u))
const messages = Arbitrary.make(Message)

/**
 * One mutation of a JSON value: at a key picked by `pick` (descending `depth` levels first), replace the
 * value with `junk`, drop the key, or add an unknown key.
 */
const mutate = (v: unknown, pick: number, depth: number, op: number, junk: unknown): unknown => {
  if (typeof v !== "object" || v === null) return junk
  const copy = (Array.isArray(v) ? Object.assign([], v) : { ...v }) as Record<string, unknown>
  const keys = Object.keys(copy)
  if (keys.length === 0) return junk
  const key = keys[pick % keys.length]!
  if (depth > 0) copy[key] = mutate(copy[key], Math.floor(pick / keys.length), depth - 1, op, junk)
  else if (op === 0) copy[key] = junk
  else if (op === 1) delete copy[key]
  else copy[`extra_${key}`] = junk
  return copy
}

const junkValues = fc.oneof(
  fc.integer({ min: -3, max: 3 }),
  fc.double(),
  fc.string({ maxLength: 3 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constantFrom("AppendEntries", "Heartbeat", "normal", "config", "x"),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.constant({})
)

describe("compiled Message guard", () => {
  it("compiles for the Message schema (the transport's fast path exists)", () => {
    expect(guard).toBeDefined()
  })

  it("accepts every message the schema generates", () => {
    fc.assert(fc.property(messages, (m) => guard!(m) && decodes(m)), { numRuns: 2000 })
  })

  it("agrees with Schema decoding on mutated messages and arbitrary JSON", () => {
    const step = fc.tuple(fc.nat(), fc.nat(3), fc.nat(2), junkValues)
    fc.assert(
      fc.property(messages, fc.array(step, { minLength: 1, maxLength: 3 }), (m, steps) => {
        let v: unknown = JSON.parse(JSON.stringify(m))
        for (const [pick, depth, op, junk] of steps) v = mutate(v, pick, depth, op, junk)
        return guard!(v) === decodes(v)
      }),
      { numRuns: 5000 }
    )
    fc.assert(fc.property(fc.jsonValue(), (v) => guard!(v) === decodes(v)), { numRuns: 2000 })
  })

  it("rejects the classic bad frames", () => {
    const ok = { _tag: "Heartbeat", term: 1, from: "a:1", to: "b:1", commit: 0, ctx: 3 }
    expect(guard!(ok)).toBe(true)
    for (const bad of [
      { ...ok, term: -1 },
      { ...ok, term: 1.5 },
      { ...ok, ctx: "3" },
      { ...ok, _tag: "Nope" },
      (({ commit: _c, ...rest }) => rest)(ok),
      { _tag: "AppendEntries", term: 1, from: "a", to: "b", prevIndex: 0, prevTerm: 0, commit: 0, ctx: 0, entries: [{ index: 1, term: 1, type: "bogus", data: "" }] },
      null,
      [ok],
      "Heartbeat"
    ]) {
      expect(guard!(bad)).toBe(false)
      expect(decodes(bad)).toBe(false)
    }
  })
})
