import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Schema } from "effect"
import * as ConfChange from "../../core/raft/ConfChange.js"
import * as Config from "../../core/raft/Config.js"
import * as Message from "../../core/raft/Message.js"
import * as Prng from "../../core/raft/Prng.js"
import { decodeConf, encodeConf, makeConf } from "../../core/raft/Types.js"

describe("Message schemas", () => {
  const append: Message.Message = {
    _tag: "AppendEntries",
    term: 3,
    from: "127.0.0.1:10008",
    to: "127.0.0.1:10009",
    prevIndex: 4,
    prevTerm: 2,
    entries: [{ term: 3, index: 5, type: "normal", data: "{\"op\":\"heartbeat\"}" }],
    commit: 4,
    ctx: 17
  }

  it("round-trip through JSON", () => {
    const wire = JSON.parse(JSON.stringify(Schema.encodeSync(Message.Message)(append))) as unknown
    expect(Message.decodeMessageSync(wire)).toEqual(append)
  })

  it("reject malformed messages", () => {
    const bad = [
      { ...append, term: -1 },
      { ...append, entries: [{ term: 1, index: 1, type: "weird", data: "" }] },
      { ...append, _tag: "Nope" },
      { _tag: "RequestVote", term: 1, from: "a", to: "b" }
    ]
    for (const m of bad) expect(Either.isLeft(Schema.decodeUnknownEither(Message.Message)(m))).toBe(true)
  })
})

describe("Prng", () => {
  it.prop("is deterministic and stays in range", [fc.integer(), fc.integer({ min: 1, max: 50 })], ([seed, span]) => {
    let a = Prng.seed(seed)
    let b = Prng.seed(seed)
    for (let i = 0; i < 20; i++) {
      const [x, a2] = Prng.intBetween(a, span, 2 * span)
      const [y, b2] = Prng.intBetween(b, span, 2 * span)
      expect(x).toBe(y)
      expect(x).toBeGreaterThanOrEqual(span)
      expect(x).toBeLessThan(2 * span)
      a = a2
      b = b2
    }
  })
})

describe("ConfChange", () => {
  const conf = makeConf(["b", "a"])
  it("adds and removes one voter at a time", () => {
    expect(ConfChange.apply(conf, { type: "addVoter", node: "c" })).toEqual({ ok: true, conf: makeConf(["a", "b", "c"]) })
    expect(ConfChange.apply(conf, { type: "removeVoter", node: "a" })).toEqual({ ok: true, conf: makeConf(["b"]) })
  })
  it("refuses no-ops and removing the last voter", () => {
    expect(ConfChange.apply(conf, { type: "addVoter", node: "a" }).ok).toBe(false)
    expect(ConfChange.apply(conf, { type: "removeVoter", node: "z" }).ok).toBe(false)
    expect(ConfChange.apply(makeConf(["a"]), { type: "removeVoter", node: "a" }).ok).toBe(false)
  })
  it("config entries encode the sorted voter list", () => {
    expect(encodeConf(conf)).toBe("[\"a\",\"b\"]")
    expect(decodeConf(encodeConf(conf))).toEqual(conf)
    expect(() => decodeConf("{}")).toThrow()
  })
})

describe("Config", () => {
  it("defaults are valid and keep the lease shorter than the election timeout", () => {
    const c = Config.make("n1")
    expect(Config.validate(c)).toEqual([])
    expect(c.leaseTicks).toBeLessThanOrEqual(c.electionTicks - 2)
  })
  it("rejects unsafe or nonsensical timing", () => {
    expect(() => Config.make("n1", { leaseTicks: 7, electionTicks: 7 })).toThrow(/leaseTicks/)
    expect(() => Config.make("n1", { heartbeatTicks: 10, electionTicks: 10, leaseTicks: 5 })).toThrow(/heartbeatTicks/)
    expect(() => Config.make("", {})).toThrow(/id/)
  })
})
