import { describe, expect, it } from "@effect/vitest"
import type { Message } from "../../core/raft/Message.js"
import { coalesce } from "../../core/raft/runtime/Coalesce.js"

const append = (to: string, prevIndex: number, commit: number, n: number, ctx = 5, term = 2): Message => ({
  _tag: "AppendEntries",
  term,
  from: "a",
  to,
  prevIndex,
  prevTerm: term,
  entries: Array.from({ length: n }, (_, k) => ({ term, index: prevIndex + 1 + k, type: "normal" as const, data: `e${prevIndex + 1 + k}` })),
  commit,
  ctx
})

const ack = (index: number, ctx: number, success = true, term = 2): Message => ({
  _tag: "AppendEntriesResp",
  term,
  from: "b",
  to: "a",
  success,
  index,
  hintIndex: 0,
  hintTerm: 0,
  ctx
})

describe("coalescing one send round", () => {
  it("drops a commit-only append that a later append to the same peer carries", () => {
    const commitB = append("b", 10, 10, 0)
    const commitC = append("c", 10, 10, 0)
    const newB = append("b", 10, 10, 3)
    const newC = append("c", 10, 10, 3)
    expect(coalesce([commitB, commitC, newB, newC])).toEqual([newB, newC])
  })

  it("keeps appends with entries, appends to other peers, and empty appends nothing later supersedes", () => {
    const a1 = append("b", 10, 9, 2)
    const a2 = append("b", 12, 9, 2)
    const lone = append("c", 10, 10, 0)
    expect(coalesce([a1, a2, lone])).toEqual([a1, a2, lone])
    // A later append with a lower commit (or another term) does not carry the commit: kept.
    const commit = append("b", 10, 11, 0)
    expect(coalesce([commit, append("b", 10, 10, 1)])).toHaveLength(2)
    expect(coalesce([commit, append("b", 10, 11, 1, 5, 3)])).toHaveLength(2)
  })

  it("acknowledges several appends with the last successful ack only", () => {
    const first = ack(11, 4)
    const second = ack(14, 5)
    expect(coalesce([first, second])).toEqual([second])
    // Rejections are never dropped, and do not supersede an earlier success.
    const reject = ack(14, 6, false)
    expect(coalesce([first, reject])).toEqual([first, reject])
    expect(coalesce([reject, second])).toEqual([reject, second])
  })

  it("keeps every other message and the order of what it keeps", () => {
    const hb: Message = { _tag: "Heartbeat", term: 2, from: "a", to: "b", commit: 3, ctx: 1 }
    const commit = append("b", 10, 10, 0)
    const next = append("b", 10, 10, 1)
    expect(coalesce([hb, commit, hb, next])).toEqual([hb, hb, next])
  })
})
