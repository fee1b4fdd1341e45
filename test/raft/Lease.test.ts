import { describe, expect, it } from "@effect/vitest"
import * as Raft from "../../core/raft/Raft.js"
import { Cluster } from "./Harness.js"

describe("leader lease and ReadIndex (thesis §6.4)", () => {
  it("healthy members (/api/health RaftHealthyMembers): the leader and the voters that acked within an election timeout", () => {
    const c = new Cluster(["a", "b", "c"], { electionTicks: 10, leaseTicks: 6 })
    c.elect("a")
    expect([...Raft.status(c.state("a")).healthyMembers].sort()).toEqual(["a", "b", "c"])
    expect(Raft.status(c.state("b")).healthyMembers).toEqual([])
    c.isolate("c")
    for (let i = 0; i < 11; i++) {
      c.tickAll()
      c.deliver()
    }
    expect(c.state("a").role).toBe("leader")
    expect([...Raft.status(c.state("a")).healthyMembers].sort()).toEqual(["a", "b"])
  })

  it("a leader elected in its first ticks does not count voters it never heard from", () => {
    const c = new Cluster(["a", "b", "c"])
    c.forgetLeaders()
    // Campaign on the very first tick (as a TimeoutNow target just after a restart would).
    const s = c.state("a")
    c.states.set("a", { ...s, electionElapsed: s.randomizedElectionTimeout - 1 })
    c.tick("a")
    c.deliver(100, (m) => m._tag !== "AppendEntries" && m._tag !== "Heartbeat")
    expect(c.state("a").role).toBe("leader")
    expect(c.state("a").now).toBeLessThan(c.state("a").config.electionTicks)
    expect(Raft.status(c.state("a")).healthyMembers).toEqual(["a"])
  })

  it("a lease starts once a quorum acknowledged a message of the term, and runs out leaseTicks later", () => {
    const c = new Cluster(["a", "b", "c"], { electionTicks: 10, leaseTicks: 6 })
    c.elect("a")
    const a = () => c.state("a")
    expect(Raft.isLeaderWithLease(a(), a().now)).toBe(true)
    const acked = a().now
    c.isolate("a")
    // The runtime's clock may be ahead of the ticks it delivered: the lease honours that.
    expect(Raft.isLeaderWithLease(a(), acked + 6)).toBe(false)
    for (let i = 0; i < 5; i++) c.tick("a")
    expect(Raft.isLeaderWithLease(a(), a().now)).toBe(true)
    c.tick("a")
    expect(a().role).toBe("leader")
    expect(Raft.isLeaderWithLease(a(), a().now)).toBe(false)
    expect(Raft.leaseExpiryTick(a())).toBeUndefined()
  })

  it("a Tick carrying the ticks a stopped process missed ends the lease at once, and moves every timer", () => {
    const c = new Cluster(["a", "b", "c"], { electionTicks: 10, leaseTicks: 8 })
    c.elect("a")
    const before = c.state("a")
    expect(Raft.isLeaderWithLease(before, before.now)).toBe(true)
    c.step("a", { _tag: "Tick", ticks: 30 })
    const after = c.state("a")
    expect(after.now).toBe(before.now + 30)
    expect(Raft.isLeaderWithLease(after, after.now)).toBe(false)
    // A follower's timers move too: stickiness is over and its election timer has run out, so it campaigns.
    const b = c.state("b")
    const out = c.step("b", { _tag: "Tick", ticks: 2 * 10 + 1 })
    expect(c.state("b").now).toBe(b.now + 21)
    expect(out.messages.some((m) => m._tag === "PreVote")).toBe(true)
    // One tick is one tick: ticks below 2 (or not an integer) change nothing beyond it.
    const n = c.state("c").now
    c.step("c", { _tag: "Tick", ticks: 0.5 })
    expect(c.state("c").now).toBe(n + 1)
  })

  it("no lease before the leader committed an entry of its term", () => {
    const c = new Cluster(["a", "b", "c"])
    c.forgetLeaders()
    c.tick("a", 20)
    c.deliver(100, (m) => m._tag !== "AppendEntries")
    expect(c.state("a").role).toBe("leader")
    expect(Raft.isLeaderWithLease(c.state("a"), c.state("a").now)).toBe(false)
  })

  it("no other node can be elected while the lease runs: voters refuse for electionTicks", () => {
    const c = new Cluster(["a", "b", "c"], { electionTicks: 10, leaseTicks: 8 })
    c.elect("a")
    c.isolate("a")
    let firstOther = -1
    let leaseEnd = -1
    for (let t = 1; t < 60 && firstOther < 0; t++) {
      c.tickAll()
      c.deliver()
      if (leaseEnd < 0 && !Raft.isLeaderWithLease(c.state("a"), c.state("a").now)) leaseEnd = t
      if (c.state("b").role === "leader" || c.state("c").role === "leader") firstOther = t
    }
    expect(leaseEnd).toBeGreaterThan(0)
    expect(firstOther).toBeGreaterThan(leaseEnd)
  })

  it("ReadIndex is answered at once under a lease, and after a heartbeat round without one", () => {
    const c = new Cluster(["a", "b", "c"], { electionTicks: 10, leaseTicks: 4 })
    c.elect("a")
    c.propose("a", "x")
    c.deliver()
    const leased = c.step("a", { _tag: "ReadIndex", id: "r1" })
    expect(leased.readStates).toEqual([{ id: "r1", ok: true, index: 2 }])
    for (let i = 0; i < 5; i++) c.tick("a")
    c.outbox = []
    const pending = c.step("a", { _tag: "ReadIndex", id: "r2" })
    expect(pending.readStates).toEqual([])
    expect(pending.messages.filter((m) => m._tag === "Heartbeat")).toHaveLength(2)
    c.deliver()
    const answered = c.outputs.flatMap((o) => o.output.readStates)
    expect(answered).toContainEqual({ id: "r2", ok: true, index: 2 })
  })

  it("ReadIndex fails on a follower and when leadership is lost while waiting", () => {
    const c = new Cluster(["a", "b", "c"], { electionTicks: 10, leaseTicks: 4 })
    c.elect("a")
    expect(c.step("b", { _tag: "ReadIndex", id: "f" }).readStates).toEqual([{ id: "f", ok: false, reason: "not leader" }])
    c.isolate("a")
    for (let i = 0; i < 5; i++) c.tick("a")
    c.step("a", { _tag: "ReadIndex", id: "w" })
    for (let i = 0; i < 20; i++) c.tick("a")
    expect(c.outputs.flatMap((o) => o.output.readStates)).toContainEqual({ id: "w", ok: false, reason: "leadership lost" })
  })
})
