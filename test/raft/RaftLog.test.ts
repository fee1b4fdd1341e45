import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Log from "../../core/raft/RaftLog.js"
import type { Entry } from "../../core/raft/Types.js"
import { decodeConf, encodeConf, makeConf } from "../../core/raft/Types.js"

const e = (index: number, term: number, type: Entry["type"] = "normal", data = `${index}`): Entry => ({
  index,
  term,
  type,
  data
})
const conf3 = makeConf(["a", "b", "c"])
const withEntries = (terms: ReadonlyArray<number>) =>
  Log.append(Log.make(conf3), terms.map((t, k) => e(k + 1, t)))

describe("RaftLog", () => {
  it("indexes and terms", () => {
    const log = withEntries([1, 1, 2])
    expect(Log.lastIndex(log)).toBe(3)
    expect(Log.lastTerm(log)).toBe(2)
    expect(Log.term(log, 0)).toBe(0)
    expect(Log.term(log, 4)).toBeUndefined()
    expect(Log.slice(log, 2, 10).map((x) => x.index)).toEqual([2, 3])
  })

  it("append truncates a conflicting suffix and lowers `stable`", () => {
    const log = { ...withEntries([1, 1, 2, 2]), stable: 4 }
    const next = Log.append(log, [e(3, 3), e(4, 3), e(5, 3)])
    expect(Log.all(next).map((x) => x.term)).toEqual([1, 1, 3, 3, 3])
    expect(next.stable).toBe(2)
  })

  it("refuses to truncate a committed entry or leave a gap", () => {
    const log = Log.commitTo(withEntries([1, 1, 2]), 2)
    expect(() => Log.append(log, [e(2, 5)])).toThrow(/committed/)
    expect(() => Log.append(log, [e(5, 5)])).toThrow(/gap/)
  })

  it("findConflict finds the first new or conflicting entry", () => {
    const log = withEntries([1, 1, 2])
    expect(Log.findConflict(log, [e(1, 1), e(2, 1)])).toBe(0)
    expect(Log.findConflict(log, [e(2, 1), e(3, 3)])).toBe(3)
    expect(Log.findConflict(log, [e(3, 2), e(4, 2)])).toBe(4)
  })

  it("findConflictByTerm skips a whole term (thesis §3.5 fast repair)", () => {
    const log = withEntries([1, 1, 2, 2, 2, 4, 4])
    expect(Log.findConflictByTerm(log, 7, 3)).toEqual([5, 2])
    expect(Log.findConflictByTerm(log, 7, 4)).toEqual([7, 4])
    expect(Log.findConflictByTerm(log, 7, 1)).toEqual([2, 1])
    expect(Log.findConflictByTerm(log, 7, 0)).toEqual([0, 0])
    expect(Log.findConflictByTerm(log, 20, 9)).toEqual([7, 4])
  })

  it("isUpToDate compares last term, then last index (thesis §3.6.1)", () => {
    const log = withEntries([1, 2, 2])
    expect(Log.isUpToDate(log, 3, 2)).toBe(true)
    expect(Log.isUpToDate(log, 2, 2)).toBe(false)
    expect(Log.isUpToDate(log, 1, 3)).toBe(true)
    expect(Log.isUpToDate(log, 9, 1)).toBe(false)
  })

  it("tracks the configuration from config entries and falls back when one is truncated", () => {
    const four = makeConf(["a", "b", "c", "d"])
    let log = Log.append(Log.make(conf3), [e(1, 1), e(2, 1, "config", encodeConf(four)), e(3, 1)])
    expect(log.conf).toEqual(four)
    expect(log.confIndex).toBe(2)
    expect(Log.confAt(log, 1)).toEqual(conf3)
    log = Log.append(log, [e(2, 2)])
    expect(log.conf).toEqual(conf3)
    expect(log.confIndex).toBe(0)
  })

  it("compaction keeps terms and configuration at the new offset", () => {
    const four = makeConf(["a", "b", "c", "d"])
    let log = Log.append(Log.make(conf3), [e(1, 1), e(2, 1, "config", encodeConf(four)), e(3, 2), e(4, 2)])
    log = { ...Log.commitTo(log, 4), applied: 4, stable: 4 }
    expect(() => Log.compact({ ...log, applied: 2 }, 3)).toThrow(/applied/)
    const c = Log.compact(log, 3)
    expect(Log.firstIndex(c)).toBe(4)
    expect(Log.term(c, 3)).toBe(2)
    expect(Log.term(c, 2)).toBeUndefined()
    expect(c.offsetConf).toEqual(four)
    expect(Log.confAt(c, 4)).toEqual(four)
  })

  it("restore replaces the log by a snapshot", () => {
    const meta = { index: 10, term: 3, conf: conf3 }
    const r = Log.restore(withEntries([1, 1]), meta)
    expect(Log.lastIndex(r)).toBe(10)
    expect(Log.lastTerm(r)).toBe(3)
    expect(r.committed).toBe(10)
    expect(r.applied).toBe(10)
  })

  it("nextToApply releases only committed entries that are durable", () => {
    const log = { ...Log.commitTo(withEntries([1, 1, 1]), 3), stable: 2 }
    expect(Log.nextToApply(log).map((x) => x.index)).toEqual([1, 2])
  })

  it.prop(
    "append matches a naive array model, including the configuration in effect",
    [fc.array(fc.tuple(fc.nat(20), fc.integer({ min: 1, max: 4 }), fc.nat(5), fc.boolean()), { maxLength: 30 })],
    ([ops]) => {
      let log = Log.make(conf3)
      let model: Array<Entry> = []
      let term = 1
      for (const [back, count, bump, config] of ops) {
        term += bump === 0 ? 1 : 0
        const from = Math.max(1, model.length + 1 - back)
        const batch = Array.from({ length: count }, (_, k) =>
          config && k === 0
            ? e(from + k, term, "config", encodeConf(makeConf(["a", "b", `x${from}`])))
            : e(from + k, term, "normal", `${term}:${from + k}`))
        log = Log.append(log, batch)
        model = model.slice(0, from - 1).concat(batch)
        expect(Log.all(log)).toEqual(model)
        const lastConfig = [...model].reverse().find((x) => x.type === "config")
        expect(log.conf).toEqual(lastConfig === undefined ? conf3 : decodeConf(lastConfig.data))
        expect(log.confIndex).toBe(lastConfig?.index ?? 0)
      }
    }
  )

  // Log values share their backing array (append pushes onto it): every value must still read exactly what
  // it held after later appends to it or to any value derived from it, forks included.
  it.prop(
    "log values stay immutable when appends fork from old values",
    [fc.array(fc.tuple(fc.nat(10), fc.nat(3), fc.integer({ min: 1, max: 3 })), { maxLength: 40 })],
    ([ops]) => {
      const values: Array<{ log: Log.RaftLog; model: ReadonlyArray<Entry> }> = [{ log: Log.make(conf3), model: [] }]
      let term = 1
      for (const [pick, back, count] of ops) {
        const base = values[pick % values.length]!
        term++
        const from = Math.max(1, base.model.length + 1 - back)
        const batch = Array.from({ length: count }, (_, k) => e(from + k, term, "normal", `${term}:${from + k}`))
        values.push({ log: Log.append(base.log, batch), model: base.model.slice(0, from - 1).concat(batch) })
        for (const v of values) {
          expect(Log.all(v.log)).toEqual(v.model)
          expect(Log.lastIndex(v.log)).toBe(v.model.length)
          expect(Log.slice(v.log, 1, v.model.length + 5)).toEqual(v.model)
        }
      }
    }
  )
})
