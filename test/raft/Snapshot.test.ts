import { describe, expect, it } from "@effect/vitest"
import type { Message } from "../../core/raft/Message.js"
import { Cluster } from "./Harness.js"

/** A 3-node cluster whose leader `a` has snapshotted and compacted past what a blank `c` could fetch. */
const compacted = () => {
  const c = new Cluster(["a", "b", "c"], { trailingLogs: 2, snapshotChunkBytes: 10 })
  c.elect("a")
  for (let i = 0; i < 12; i++) c.propose("a", `v${i}`)
  c.deliver()
  c.snapshot("a")
  expect(c.state("a").log.offset).toBe(13 - 2)
  // c loses its disk and restarts with the same voter list (bootstrap semantics).
  c.boot("c", ["a", "b", "c"], 2)
  // The leader still believes c holds everything; the next append reveals the gap (as in etcd).
  c.propose("a", "trigger")
  return c
}

const pump = (c: Cluster, rounds: number, filter?: (m: Message) => boolean) => {
  for (let i = 0; i < rounds; i++) {
    c.tickAll()
    c.deliver(100, filter)
  }
}

describe("snapshots (thesis §5.1)", () => {
  it("compaction keeps trailingLogs entries and tells the runtime what to delete", () => {
    const c = compacted()
    const compactions = c.outputs.filter((o) => o.id === "a" && o.output.persist?.compactTo !== undefined)
    expect(compactions.map((o) => o.output.persist!.compactTo)).toEqual([11])
    expect(c.disks.get("a")!.entries[0]!.index).toBe(12)
  })

  it("an empty node with the same voter list is caught up by a chunked snapshot, then by entries", () => {
    const c = compacted()
    pump(c, 5)
    const chunks = c.outputs.flatMap((o) => o.output.messages).filter((m) => m._tag === "InstallSnapshot")
    expect(chunks.length).toBeGreaterThan(3)
    expect(chunks.every((m) => m._tag === "InstallSnapshot" && m.data.length <= 10)).toBe(true)
    c.propose("a", "after")
    pump(c, 2)
    expect(c.items.get("c")).toEqual(c.items.get("a"))
    expect(c.items.get("c")!.at(-1)).toBe("after")
    expect(c.state("c").snapshot?.index).toBe(13)
    expect(c.state("c").log.offset).toBe(13)
  })

  it("a lost chunk is re-sent from the acknowledged offset", () => {
    const c = compacted()
    let dropped = 0
    const dropOnce = (m: Message) => {
      if (m._tag === "InstallSnapshot" && m.offset === 20 && dropped === 0) {
        dropped++
        return false
      }
      return true
    }
    pump(c, 40, dropOnce)
    expect(dropped).toBe(1)
    const resent = c.outputs.flatMap((o) => o.output.messages)
      .filter((m) => m._tag === "InstallSnapshot" && m.to === "c" && m.offset === 20)
    expect(resent.length).toBe(2)
    expect(c.items.get("c")).toEqual(c.items.get("a"))
  })

  it("a follower that restarts mid-transfer makes the leader resume from offset 0", () => {
    const c = compacted()
    let restarted = false
    const restartOnce = (m: Message) => {
      if (!restarted && m._tag === "InstallSnapshot" && m.offset === 30) {
        restarted = true
        c.boot("c", ["a", "b", "c"], 2, true)
      }
      return true
    }
    pump(c, 40, restartOnce)
    expect(restarted).toBe(true)
    const resumed = c.outputs.filter((o) => o.id === "c").flatMap((o) => o.output.messages)
      .filter((m) => m._tag === "InstallSnapshotResp" && m.nextOffset === 0)
    expect(resumed.length).toBeGreaterThan(0)
    expect(c.items.get("c")).toEqual(c.items.get("a"))
  })
})
