import { describe, expect, it } from "@effect/vitest"
import * as Raft from "../../core/raft/Raft.js"
import { Cluster } from "./Harness.js"

describe("leadership transfer (thesis §3.10)", () => {
  it("catches the target up, sends TimeoutNow, and the target wins despite stickiness", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("b")
    c.propose("a", "x")
    c.deliver()
    c.heal()
    const out = c.step("a", { _tag: "TransferLeadership", target: "b" })
    expect(out.events).toContainEqual({ _tag: "TransferStarted", target: "b" })
    // b is behind: no TimeoutNow yet, and proposals are refused meanwhile.
    expect(c.outbox.some((m) => m._tag === "TimeoutNow")).toBe(false)
    expect(c.propose("a", "y").proposals).toMatchObject([{ ok: false, reason: "leadership transfer in progress" }])
    c.deliver()
    expect(c.leader()).toBe("b")
    expect(c.state("b").term).toBe(2)
    expect(c.state("a")).toMatchObject({ role: "follower", lead: "b" })
  })

  it("the old leader gives up its lease as soon as it sends TimeoutNow", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.tickAll()
    c.deliver()
    expect(Raft.isLeaderWithLease(c.state("a"), c.state("a").now)).toBe(true)
    c.step("a", { _tag: "TransferLeadership", target: "c" })
    expect(c.state("a").role).toBe("leader")
    expect(Raft.isLeaderWithLease(c.state("a"), c.state("a").now)).toBe(false)
  })

  it("a transfer whose TimeoutNow was lost aborts after an election timeout and the leader steps down", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.step("a", { _tag: "TransferLeadership", target: "c" })
    c.deliver(100, (m) => m._tag !== "TimeoutNow")
    for (let i = 0; i < 10; i++) c.tick("a")
    expect(c.state("a").role).toBe("follower")
    expect(c.events.get("a")).toContainEqual({ _tag: "SteppedDown", reason: "transferAborted" })
  })

  it("a transfer that never sent TimeoutNow just ends, keeping the leader and its lease", () => {
    const c = new Cluster(["a", "b", "c"])
    c.elect("a")
    c.isolate("c")
    c.propose("a", "x")
    c.deliver()
    c.step("a", { _tag: "TransferLeadership", target: "c" })
    for (let i = 0; i < 10; i++) {
      c.tick("a")
      c.tick("b")
      c.deliver()
    }
    expect(c.state("a")).toMatchObject({ role: "leader", transferee: "" })
    expect(Raft.isLeaderWithLease(c.state("a"), c.state("a").now)).toBe(true)
    expect(c.propose("a", "y").proposals).toMatchObject([{ ok: true }])
  })
})
