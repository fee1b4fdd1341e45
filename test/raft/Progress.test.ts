import { describe, expect, it } from "@effect/vitest"
import * as Progress from "../../core/raft/Progress.js"
import { makeConf } from "../../core/raft/Types.js"

describe("Progress", () => {
  it("probe: one message at a time until a reply", () => {
    let p = Progress.make(5, 0)
    expect(Progress.isPaused(p, 4)).toBe(false)
    p = Progress.sentEntries(p, 7, 3)
    expect(Progress.isPaused(p, 4)).toBe(true)
    const [q, updated] = Progress.maybeUpdate(p, 7)
    expect(updated).toBe(true)
    expect(q.match).toBe(7)
    expect(q.next).toBe(8)
    expect(Progress.isPaused(q, 4)).toBe(false)
  })

  it("replicate: pipelines up to maxInflight and frees on ack", () => {
    let p = Progress.becomeReplicate({ ...Progress.make(1, 0), match: 3 })
    expect(p.next).toBe(4)
    p = Progress.sentEntries(p, 5, 2)
    p = Progress.sentEntries(p, 7, 2)
    expect(p.next).toBe(8)
    expect(Progress.isPaused(p, 2)).toBe(true)
    const [q] = Progress.maybeUpdate(p, 5)
    expect(q.inflight).toEqual([7])
    expect(Progress.isPaused(q, 2)).toBe(false)
  })

  it("stale rejections are ignored; a fresh one moves next using the hint", () => {
    const probing = Progress.sentEntries({ ...Progress.make(10, 0), match: 2 }, 12, 3)
    expect(Progress.maybeDecrTo(probing, 5, 4)).toBeUndefined() // not the outstanding prevIndex (9)
    const back = Progress.maybeDecrTo(probing, 9, 4)!
    expect(back.next).toBe(5)
    expect(back.probeSent).toBe(false)
    // Never below match + 1.
    expect(Progress.maybeDecrTo(probing, 9, 0)!.next).toBe(3)
    const replicating = Progress.becomeReplicate({ ...Progress.make(1, 0), match: 6 })
    expect(Progress.maybeDecrTo(replicating, 5, 0)).toBeUndefined()
    const broken = Progress.maybeDecrTo(replicating, 8, 0)!
    expect(broken.state).toBe("probe")
    expect(broken.next).toBe(7)
  })

  it("snapshot state pauses appends and resumes after the snapshot index", () => {
    const meta = { index: 40, term: 2, conf: makeConf(["a"]) }
    const s = Progress.becomeSnapshot(Progress.make(3, 0), meta, 9)
    expect(Progress.isPaused(s, 100)).toBe(true)
    expect(s.snapshot?.ackedOffset).toBe(0)
    const back = Progress.becomeProbe(Progress.maybeUpdate(s, 40)[0])
    expect(back.state).toBe("probe")
    expect(back.next).toBe(41)
  })
})
