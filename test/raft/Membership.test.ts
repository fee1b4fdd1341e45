import { describe, expect, it } from "@effect/vitest"
import * as Raft from "../../core/raft/Raft.js"
import { Cluster } from "./Harness.js"

const settle = (c: Cluster, rounds = 5) => {
  for (let i = 0; i < rounds; i++) {
    c.tickAll()
    c.deliver()
  }
}

describe("membership changes (thesis §4.1, one server at a time)", () => {
  it("adds a voter: the new node starts empty, is caught up, and the config applies on append", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.propose("a", "x")
    c.deliver()
    c.boot("d", ["a", "b", "c", "d"], 3)
    const out = c.step("a", { _tag: "ProposeConfChange", id: "cc1", change: { type: "addVoter", node: "d" } })
    expect(out.proposals).toMatchObject([{ id: "cc1", ok: true }])
    // In effect on the leader as soon as it is appended, before commit (thesis §4.1).
    expect(c.state("a").log.conf.voters).toEqual(["a", "b", "c", "d"])
    expect(c.state("a").log.committed).toBeLessThan(c.state("a").log.confIndex)
    expect(out.events).toContainEqual({ _tag: "ConfChanged", conf: { voters: ["a", "b", "c", "d"] } })
    settle(c)
    for (const id of ["a", "b", "c", "d"]) expect(c.state(id).log.conf.voters).toEqual(["a", "b", "c", "d"])
    expect(c.items.get("d")).toEqual(["x"])
    // Quorum is now 3 of 4: with two nodes cut off nothing commits.
    c.isolate("c")
    c.isolate("d")
    const before = c.state("a").log.committed
    c.propose("a", "y")
    c.deliver()
    expect(c.state("a").log.committed).toBe(before)
  })

  it("removes a voter; the removed node's campaigns are refused", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("c")
    c.step("a", { _tag: "ProposeConfChange", id: "cc", change: { type: "removeVoter", node: "c" } })
    c.deliver()
    expect(c.state("a").log.committed).toBe(c.state("a").log.confIndex) // 2 of 2 now
    c.heal()
    // c never learned of its removal; it times out and asks for pre-votes, which are refused.
    c.forgetLeaders()
    c.tick("c", 2 * 10)
    c.deliver()
    expect(c.events.get("a")!.concat(c.events.get("b")!)).toContainEqual({
      _tag: "Refused",
      from: "c",
      message: "PreVote",
      reason: "sender is not in the configuration"
    })
    expect(c.leader()).toBe("a")
    expect(c.state("a").term).toBe(1)
  })

  it("allows one uncommitted change at a time, and none before the leader committed in its term", () => {
    const c = new Cluster(["a", "b", "c"])
    c.forgetLeaders()
    c.tick("a", 20)
    // Deliver votes but not the appends that would commit the no-op.
    c.deliver(100, (m) => m._tag !== "AppendEntries")
    expect(c.state("a").role).toBe("leader")
    const early = c.step("a", { _tag: "ProposeConfChange", id: "e", change: { type: "addVoter", node: "d" } })
    expect(early.proposals).toMatchObject([{ ok: false, reason: "leader has not committed an entry of its term yet" }])
    c.tickAll()
    c.deliver()
    c.isolate("b")
    c.isolate("c")
    c.step("a", { _tag: "ProposeConfChange", id: "1", change: { type: "addVoter", node: "d" } })
    const second = c.step("a", { _tag: "ProposeConfChange", id: "2", change: { type: "removeVoter", node: "b" } })
    expect(second.proposals).toMatchObject([{ ok: false, reason: "a configuration change is still uncommitted" }])
  })

  it("a leader that removes itself keeps leading until the change commits, then steps down", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.step("a", { _tag: "ProposeConfChange", id: "cc", change: { type: "removeVoter", node: "a" } })
    expect(c.state("a").role).toBe("leader")
    c.deliver()
    expect(c.state("a").role).toBe("follower")
    expect(c.events.get("a")).toContainEqual({ _tag: "SteppedDown", reason: "removed" })
    // The remaining two elect a leader among themselves; a never campaigns again.
    for (let i = 0; i < 60 && c.leader() === undefined; i++) {
      c.tickAll()
      c.deliver()
    }
    expect(["b", "c"]).toContain(c.leader())
    c.tick("a", 50)
    expect(c.state("a").role).toBe("follower")
  })

  it("a config entry truncated by a new leader stops being in effect", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("a")
    c.step("a", { _tag: "ProposeConfChange", id: "cc", change: { type: "addVoter", node: "d" } })
    expect(c.state("a").log.conf.voters).toContain("d")
    for (let i = 0; i < 60 && c.state("b").role !== "leader" && c.state("c").role !== "leader"; i++) {
      c.tick("b")
      c.tick("c")
      c.deliver()
    }
    const lead = [...c.states.values()].find((s) => s.role === "leader" && s.term > 1)
    expect(lead).toBeDefined()
    c.heal()
    c.propose(lead!.config.id, "y")
    settle(c)
    expect(c.state("a").log.conf.voters).toEqual(["a", "b", "c"])
  })
})

describe("membership edge cases found by the simulator", () => {
  it("a new voter counts as active, so CheckQuorum does not depose the leader that adds it", () => {
    const c = new Cluster(["a"])
    c.elect("a")
    // Let the leader's CheckQuorum round come due, then add b (not even running yet).
    for (let i = 0; i < 9; i++) c.tick("a")
    c.step("a", { _tag: "ProposeConfChange", id: "cc", change: { type: "addVoter", node: "b" } })
    c.tick("a")
    expect(c.state("a").role).toBe("leader")
  })

  it("a stale member grants a vote to an outsider whose log is newer (it may hold our removal; seed 347)", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("b")
    c.propose("a", "x")
    c.deliver()
    // b is stale; "z" (not in b's configuration) has a newer log than b.
    const b = { ...c.state("b"), contactElapsed: 100 }
    const ask = (lastLogIndex: number) =>
      Raft.step(b, {
        _tag: "Receive",
        message: { _tag: "PreVote", term: 2, from: "z", to: "b", lastLogIndex, lastLogTerm: 1, transfer: false }
      }).output
    expect(ask(1).events).toMatchObject([{ _tag: "Refused", reason: "sender is not in the configuration" }])
    expect(ask(5).messages).toMatchObject([{ _tag: "PreVoteResp", granted: true }])
  })

  it("the leader does not compact entries a follower receiving a snapshot will need next", () => {
    const c = new Cluster(["a", "b", "c"], { trailingLogs: 0, snapshotChunkBytes: 4 })
    c.elect("a")
    for (let i = 0; i < 5; i++) c.propose("a", `v${i}`)
    c.deliver()
    c.snapshot("a") // compacts everything: 6
    c.boot("c", ["a", "b", "c"], 2)
    c.tick("a")
    c.propose("a", "trigger")
    c.deliver(2) // c rejects; the leader starts sending snapshot 6 (a few chunks only)
    expect(c.state("a").progress.get("c")?.state).toBe("snapshot")
    for (let i = 0; i < 3; i++) c.propose("a", `w${i}`)
    c.snapshot("a") // a newer snapshot at 10 must keep entries after 6 for c
    expect(c.state("a").log.offset).toBe(6)
  })
})

describe("messages from outside the configuration", () => {
  it("are refused with an event, except those of a leader", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    const b = c.state("b")
    const vote = Raft.step({ ...b, contactElapsed: 100 }, {
      _tag: "Receive",
      message: { _tag: "RequestVote", term: 50, from: "zz", to: "b", lastLogIndex: 0, lastLogTerm: 0, transfer: false }
    })
    expect(vote.state.term).toBe(1)
    expect(vote.output.messagesAfterPersist).toEqual([])
    expect(vote.output.events).toEqual([
      { _tag: "Refused", from: "zz", message: "RequestVote", reason: "sender is not in the configuration" }
    ])
    const resp = Raft.step(c.state("a"), {
      _tag: "Receive",
      message: { _tag: "HeartbeatResp", term: 9, from: "zz", to: "a", ctx: 0 }
    })
    expect(resp.state.role).toBe("leader")
    expect(resp.output.events).toMatchObject([{ _tag: "Refused", from: "zz" }])
    const misaddressed = Raft.step(b, { _tag: "Receive", message: { _tag: "TimeoutNow", term: 1, from: "a", to: "c" } })
    expect(misaddressed.output.events).toMatchObject([{ _tag: "Refused", reason: "addressed to another node" }])
  })
})
