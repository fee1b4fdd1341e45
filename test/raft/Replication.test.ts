import { describe, expect, it } from "@effect/vitest"
import type { Message } from "../../core/raft/Message.js"
import * as Raft from "../../core/raft/Raft.js"
import * as Log from "../../core/raft/RaftLog.js"
import type { Entry } from "../../core/raft/Types.js"
import { Cluster } from "./Harness.js"

const entries = (terms: ReadonlyArray<number>): Array<Entry> =>
  terms.map((term, k) => ({ term, index: k + 1, type: "normal", data: `t${term}i${k + 1}` }))

/** Boots `id` from a disk holding `terms` at `term` (and no vote). */
const bootWith = (c: Cluster, id: string, terms: ReadonlyArray<number>, term: number) => {
  c.disks.set(id, { hardState: { term, vote: "", commit: 0 }, entries: entries(terms), snapshot: undefined, receiving: "" })
  c.boot(id, c.ids, c.ids.indexOf(id), true)
}

describe("log replication (thesis §3.5)", () => {
  it("replicates, commits on a majority and applies everywhere", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    for (const x of ["x", "y", "z"]) c.propose("a", x)
    c.deliver()
    c.tickAll()
    c.deliver()
    for (const id of ["a", "b", "c"]) {
      expect(c.applied.get(id)!.map((e) => e.data)).toEqual(["", "x", "y", "z"])
    }
  })

  it("commits with a majority while one follower is down", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("c")
    c.propose("a", "x")
    c.deliver()
    expect(c.state("a").log.committed).toBe(2)
    expect(Log.all(c.state("c").log).map((e) => e.data)).toEqual([""])
  })

  it("followers acknowledge appends only after persisting them", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    const app: Message = {
      _tag: "AppendEntries",
      term: 1,
      from: "a",
      to: "b",
      prevIndex: 1,
      prevTerm: 1,
      entries: [{ term: 1, index: 2, type: "normal", data: "x" }],
      commit: 1,
      ctx: 3
    }
    const { output } = Raft.step(c.state("b"), { _tag: "Receive", message: app })
    expect(output.messages).toEqual([])
    expect(output.persist?.entries).toEqual(app.entries)
    expect(output.messagesAfterPersist).toMatchObject([{ _tag: "AppendEntriesResp", success: true, index: 2, ctx: 3 }])
  })

  it("a duplicate append while a write is in flight is also acknowledged only after persistence", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    const app: Message = {
      _tag: "AppendEntries",
      term: 1,
      from: "a",
      to: "b",
      prevIndex: 1,
      prevTerm: 1,
      entries: [{ term: 1, index: 2, type: "normal", data: "x" }],
      commit: 1,
      ctx: 3
    }
    const first = Raft.step(c.state("b"), { _tag: "Receive", message: app })
    const second = Raft.step(first.state, { _tag: "Receive", message: app })
    expect(second.output.messages).toEqual([])
    // An empty record orders the ack behind the first write.
    expect(second.output.persist).toMatchObject({ seq: first.output.persist!.seq + 1, entries: [] })
    expect(second.output.messagesAfterPersist).toHaveLength(1)
  })

  it("the leader counts its own entries only once they are durable", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    const { state, output } = Raft.step(c.state("a"), { _tag: "Propose", id: "x", data: "x" })
    const ack = (from: string): Message => ({
      _tag: "AppendEntriesResp",
      term: 1,
      from,
      to: "a",
      success: true,
      index: 2,
      hintIndex: 0,
      hintTerm: 0,
      ctx: 0
    })
    expect(output.persist?.entries.map((e) => e.data)).toEqual(["x"])
    // b's ack alone is not a majority while a's own write is still in flight…
    let s = Raft.step(state, { _tag: "Receive", message: ack("b") }).state
    expect(s.log.committed).toBe(1)
    // …and the entry commits the moment a's write is reported durable.
    s = Raft.step(s, { _tag: "Persisted", seq: output.persist!.seq }).state
    expect(s.log.committed).toBe(2)
  })

  it("batches at most maxEntriesPerMsg and pipelines at most maxInflight messages", () => {
    const c = new Cluster(["a", "b", "c"], { maxEntriesPerMsg: 2, maxInflight: 3 })
    c.elect("a")
    c.outbox = []
    for (let i = 0; i < 20; i++) c.propose("a", `p${i}`)
    const toB = c.outbox.filter((m) => m._tag === "AppendEntries" && m.to === "b")
    expect(toB.length).toBe(3)
    for (const m of toB) if (m._tag === "AppendEntries") expect(m.entries.length).toBeLessThanOrEqual(2)
    c.deliver()
    expect(c.state("b").log.committed).toBe(21)
  })

  it("a batch of proposals appends them in order and sends them in as few messages as flow control allows", () => {
    const c = new Cluster(["a", "b", "c"], { maxEntriesPerMsg: 4, maxInflight: 3 })
    c.elect("a")
    c.outbox = []
    const proposals = Array.from({ length: 10 }, (_, i) => ({ id: `q${i}`, data: `q${i}` }))
    const out = c.step("a", { _tag: "ProposeBatch", proposals })
    expect(out.proposals).toEqual(proposals.map((p, i) => ({ id: p.id, ok: true, index: 2 + i, term: 1 })))
    expect(out.persist?.entries.map((e) => e.data)).toEqual(proposals.map((p) => p.data))
    for (const to of ["b", "c"]) {
      const sent = c.outbox.filter((m) => m._tag === "AppendEntries" && m.to === to)
      // 10 entries in messages of ≤ 4: 3 messages, the same as proposing them one by one (pipelined).
      expect(sent.map((m) => (m._tag === "AppendEntries" ? m.entries.map((e) => e.data) : []))).toEqual([
        ["q0", "q1", "q2", "q3"],
        ["q4", "q5", "q6", "q7"],
        ["q8", "q9"]
      ])
    }
    c.deliver()
    c.tickAll()
    c.deliver()
    for (const id of ["a", "b", "c"]) expect(c.applied.get(id)!.map((e) => e.data)).toEqual(["", ...proposals.map((p) => p.data)])
  })

  it("a batch of proposals on a follower is refused as a whole", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    const out = c.step("b", { _tag: "ProposeBatch", proposals: [{ id: "x", data: "x" }, { id: "y", data: "y" }] })
    expect(out.proposals).toEqual([
      { id: "x", ok: false, reason: "not leader" },
      { id: "y", ok: false, reason: "not leader" }
    ])
    expect(out.persist).toBeUndefined()
  })

  it("only entries of the current term are committed by counting replicas (thesis §3.6.2, Fig. 3.7)", () => {
    const c = new Cluster(["a", "b", "c"])
    // a led term 2 and replicated index 2 to b only; then c led term 3 (index 2 of term 3, never replicated).
    bootWith(c, "a", [1, 2], 4)
    bootWith(c, "b", [1], 4)
    bootWith(c, "c", [1, 3], 4)
    c.isolate("c")
    c.elect("a")
    expect(c.leader()).toBe("a")
    // a's new term entry (noop at 3) commits, and with it index 2 of term 2 — indirectly.
    expect(c.state("a").log.committed).toBe(3)
    // Before the noop was replicated, index 2 (term 2) on a majority was not committed: check the record.
    const commits = c.outputs.filter((o) => o.id === "a" && o.output.persist?.hardState !== undefined)
      .map((o) => o.output.persist!.hardState!.commit)
    expect(commits).not.toContain(2)
  })

  it("repairs a divergent follower with few round trips using conflict hints", () => {
    const c = new Cluster(["a", "b", "c"])
    // Thesis Fig. 3.7 (f)-like follower: many entries of terms the leader never had.
    bootWith(c, "a", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], 7)
    bootWith(c, "b", [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], 7)
    bootWith(c, "c", [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 7)
    c.elect("a")
    c.tickAll()
    c.deliver()
    const rejections = c.outputs.flatMap((o) => o.output.messages)
      .filter((m) => m._tag === "AppendEntriesResp" && m.from === "c" && !m.success)
    expect(rejections.length).toBeLessThanOrEqual(3)
    expect(Log.all(c.state("c").log).map((e) => e.term)).toEqual([1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8])
    expect(c.state("c").log.committed).toBe(11)
  })

  it("a stale leader learns the new term from any reply and steps down", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("a")
    for (let i = 0; i < 60 && c.state("b").role !== "leader"; i++) {
      c.tick("b")
      c.tick("c")
      c.deliver()
    }
    expect(c.state("b").role).toBe("leader")
    c.heal()
    c.propose("a", "lost")
    c.deliver()
    expect(c.state("a")).toMatchObject({ role: "follower", term: c.state("b").term })
    c.tickAll()
    c.deliver()
    expect(c.applied.get("a")!.map((e) => e.data)).not.toContain("lost")
  })
})
