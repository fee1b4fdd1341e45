import { describe, expect, it } from "@effect/vitest"
import * as Raft from "../../core/raft/Raft.js"
import * as Log from "../../core/raft/RaftLog.js"
import { Cluster } from "./Harness.js"

describe("election (thesis §3.4)", () => {
  it("a node that times out wins PreVote then the election, and commits a no-op of its term", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    expect(c.leader()).toBe("a")
    const a = c.state("a")
    expect(a.term).toBe(1)
    expect(Log.all(a.log).at(-1)).toMatchObject({ index: 1, term: 1, type: "noop" })
    expect(a.log.committed).toBe(1)
    for (const id of ["b", "c"]) expect(c.state(id)).toMatchObject({ role: "follower", lead: "a", term: 1 })
    expect(c.disks.get("b")!.hardState).toEqual({ term: 1, vote: "a", commit: 1 })
  })

  it("a single node elects itself once its own vote is durable", () => {
    const c = new Cluster(["solo"])
    c.elect("solo")
    expect(c.state("solo").role).toBe("leader")
    const out = c.propose("solo", "x")
    expect(out.proposals).toEqual([{ id: "x", ok: true, index: 2, term: 1 }])
    expect(c.applied.get("solo")!.map((e) => e.data)).toEqual(["", "x"])
  })

  it("a candidate does not count its own vote before term and vote are persisted", () => {
    const c = new Cluster(["a", "b", "c"])
    c.forgetLeaders()
    // Step manually without the harness' synchronous persistence.
    let s = c.state("a")
    for (let i = 0; i < 40 && s.role !== "candidate"; i++) {
      const r = Raft.step(s, { _tag: "Tick" })
      s = r.state
      if (r.state.role === "precandidate") {
        for (const from of ["b", "c"]) {
          s = Raft.step(s, { _tag: "Receive", message: { _tag: "PreVoteResp", term: s.term + 1, from, to: "a", granted: true } })
            .state
        }
      }
    }
    expect(s.role).toBe("candidate")
    expect(s.votes.get("a")).toBeUndefined()
    // One other vote is not a majority without our own durable vote.
    s = Raft.step(s, { _tag: "Receive", message: { _tag: "RequestVoteResp", term: s.term, from: "b", to: "a", granted: true } })
      .state
    expect(s.role).toBe("candidate")
    s = Raft.step(s, { _tag: "Persisted", seq: s.selfVoteSeq }).state
    expect(s.role).toBe("leader")
  })

  it("vote grants are released only after the vote is persisted", () => {
    const c = new Cluster(["a", "b", "c"])
    c.forgetLeaders()
    const b = c.state("b")
    const { output } = Raft.step(b, {
      _tag: "Receive",
      message: { _tag: "RequestVote", term: 5, from: "a", to: "b", lastLogIndex: 0, lastLogTerm: 0, transfer: false }
    })
    expect(output.messages).toEqual([])
    expect(output.messagesAfterPersist).toMatchObject([{ _tag: "RequestVoteResp", granted: true, term: 5 }])
    expect(output.persist?.hardState).toEqual({ term: 5, vote: "a", commit: 0 })
  })

  it("a voter refuses a candidate whose log is behind (thesis §3.6.1)", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.propose("a", "x")
    c.deliver()
    const b = { ...c.state("b"), contactElapsed: 100 } // long after the last heartbeat
    expect(b.log.length).toBe(2)
    const ask = (lastLogIndex: number, lastLogTerm: number) =>
      Raft.step(b, {
        _tag: "Receive",
        message: { _tag: "RequestVote", term: 9, from: "c", to: "b", lastLogIndex, lastLogTerm, transfer: false }
      }).output.messagesAfterPersist
    expect(ask(1, 1)).toMatchObject([{ _tag: "RequestVoteResp", granted: false, term: 9 }])
    expect(ask(2, 1)).toMatchObject([{ _tag: "RequestVoteResp", granted: true, term: 9 }])
  })
})

describe("PreVote (thesis §9.6) and CheckQuorum (thesis §6.2)", () => {
  it("a pre-candidate re-asks voters that did not answer every heartbeat interval", () => {
    const c = new Cluster(["a", "b", "c"], { heartbeatTicks: 2 })
    c.forgetLeaders()
    let s = c.state("a")
    while (s.role !== "precandidate") s = Raft.step(s, { _tag: "Tick" }).state
    const asked = (st: typeof s) => Raft.step(st, { _tag: "Tick" })
    const first = asked(s)
    const second = asked(first.state)
    const preVotes = [...first.output.messages, ...second.output.messages].filter((m) => m._tag === "PreVote")
    expect(preVotes.map((m) => m.to).sort()).toEqual(["b", "c"])
  })

  it("of two pre-candidates with equal logs only the larger id gets the other's pre-vote", () => {
    const c = new Cluster(["a", "b", "c"])
    c.forgetLeaders()
    const pre = (id: string) => {
      let s = c.state(id)
      while (s.role !== "precandidate") s = Raft.step(s, { _tag: "Tick" }).state
      return s
    }
    const ask = (s: ReturnType<typeof pre>, from: string) =>
      Raft.step(s, {
        _tag: "Receive",
        message: { _tag: "PreVote", term: 1, from, to: s.config.id, lastLogIndex: 0, lastLogTerm: 0, transfer: false }
      }).output.messages
    expect(ask(pre("b"), "a")).toMatchObject([{ _tag: "PreVoteResp", granted: false }])
    expect(ask(pre("a"), "b")).toMatchObject([{ _tag: "PreVoteResp", granted: true }])
  })

  it("a partitioned node does not inflate its term and cannot depose the leader when it returns", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("c")
    // c times out many times while cut off; a keeps b alive with heartbeats.
    for (let i = 0; i < 100; i++) {
      c.tickAll()
      c.deliver()
    }
    expect(c.state("c").term).toBe(1)
    expect(c.state("c").role).toBe("precandidate")
    c.heal()
    for (let i = 0; i < 30; i++) {
      c.tickAll()
      c.deliver()
    }
    expect(c.leader()).toBe("a")
    expect(c.state("a").term).toBe(1)
    expect(c.state("c")).toMatchObject({ role: "follower", lead: "a" })
  })

  it("without PreVote the same partition bumps terms (contrast)", () => {
    const c = new Cluster(["a", "b", "c"], { preVote: false })
    c.elect("a")
    c.isolate("c")
    for (let i = 0; i < 100; i++) {
      c.tickAll()
      c.deliver()
    }
    expect(c.state("c").term).toBeGreaterThan(1)
  })

  it("voters that heard from the leader recently ignore vote requests (leader stickiness)", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.tickAll()
    c.deliver()
    const { output, state } = Raft.step(c.state("b"), {
      _tag: "Receive",
      message: { _tag: "RequestVote", term: 7, from: "c", to: "b", lastLogIndex: 50, lastLogTerm: 5, transfer: false }
    })
    expect(state.term).toBe(1)
    expect(output.messagesAfterPersist).toEqual([])
    expect(output.events).toMatchObject([{ _tag: "Refused", from: "c" }])
  })

  it("stickiness also holds at equal terms (regression: simulator seed 27269)", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.tickAll()
    c.deliver()
    // b heard from a just now; then a PreVote rejection carrying term 2 moves it to term 2 without a leader…
    let b = Raft.step(c.state("b"), {
      _tag: "Receive",
      message: { _tag: "PreVoteResp", term: 2, from: "c", to: "b", granted: false }
    }).state
    expect(b).toMatchObject({ term: 2, lead: "", vote: "" })
    // …and a RequestVote of term 2 must still be refused, or a's lease would overlap c's leadership.
    const r = Raft.step(b, {
      _tag: "Receive",
      message: { _tag: "RequestVote", term: 2, from: "c", to: "b", lastLogIndex: 9, lastLogTerm: 1, transfer: false }
    })
    expect(r.output.messagesAfterPersist).toMatchObject([{ _tag: "RequestVoteResp", granted: false }])
    b = r.state
    expect(b.vote).toBe("")
  })

  it("a leader that cannot reach a majority for an election timeout steps down", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("a")
    let stepped = -1
    for (let i = 0; i < 25 && stepped < 0; i++) {
      c.tick("a")
      c.deliver()
      if (c.state("a").role !== "leader") stepped = i + 1
    }
    expect(stepped).toBeGreaterThan(0)
    expect(stepped).toBeLessThanOrEqual(2 * 10)
    expect(c.events.get("a")).toContainEqual({ _tag: "SteppedDown", reason: "checkQuorum" })
  })

  it("after the leader dies the others elect a new one", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("a")
    for (let i = 0; i < 60 && (c.state("b").role !== "leader" && c.state("c").role !== "leader"); i++) {
      c.tick("b")
      c.tick("c")
      c.deliver()
    }
    const next = ["b", "c"].find((id) => c.state(id).role === "leader")
    expect(next).toBeDefined()
    expect(c.state(next!).term).toBe(2)
  })
})
