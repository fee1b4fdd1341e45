/**
 * RaftNodes versus the raft configuration (service/raft/Membership.ts): who may ask the leader for a
 * configuration change, what it does first, and when it must leave the configuration alone. The same
 * rules run end to end in test/e2e/operations-replace.test.ts and operations-membership.test.ts.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { decide, type Heard, make } from "../../service/raft/Membership.js"

const [n1, n2, n3, nX, nY] = ["n1:1", "n2:1", "n3:1", "nx:1", "ny:1"] as const
const now = 1_000_000
const heard = (entries: ReadonlyArray<[string, Partial<Heard> & { list: ReadonlyArray<string> }]>) =>
  new Map<string, Heard>(entries.map(([id, h]) => [id, { counts: true, consumed: false, at: now - 100, ...h }]))
const newList = [n1, n2, nX]
const oldList = [n1, n2, n3]

describe("the leader's membership decision", () => {
  it("the guide's rolling path: n1 edited to [n1,n2,nX] plus nX running with it → add nX, then remove n3", () => {
    const asking = heard([[n1, { list: newList }], [nX, { list: newList }]])
    // n2 leads with its old file (no intent): n1 and nX are a majority of the new list.
    expect(decide({ self: n2, voters: oldList, declared: oldList, intent: false, heard: asking, now })).toMatchObject({
      _tag: "Add",
      node: nX,
      supporters: [n1, nX]
    })
    const added = [...oldList, nX]
    expect(decide({ self: n2, voters: added, declared: oldList, intent: false, heard: asking, now })).toMatchObject({ _tag: "Remove", node: n3 })
  })

  it("a leader asking for a list without itself removes the others first and itself last", () => {
    const asking = heard([[n1, { list: [n1, n2, nX] }], [n2, { list: [n1, n2, nX] }]])
    expect(decide({ self: n3, voters: [n1, n2, n3, nX, nY], declared: oldList, intent: false, heard: asking, now })).toMatchObject({
      _tag: "Remove",
      node: nY
    })
    expect(decide({ self: n3, voters: [n1, n2, n3, nX], declared: oldList, intent: false, heard: asking, now })).toMatchObject({
      _tag: "Remove",
      node: n3
    })
  })

  it("one node alone (a stranger, or one edited file) changes nothing", () => {
    expect(decide({ self: n1, voters: oldList, declared: oldList, intent: false, heard: heard([[nY, { list: [n1, n2, nY] }]]), now }))
      .toEqual({ _tag: "None" })
    expect(decide({ self: n2, voters: oldList, declared: oldList, intent: false, heard: heard([[n1, { list: newList }]]), now }))
      .toEqual({ _tag: "None" })
  })

  it("stale, unedited files (after raft-add-peer/raft-remove-peer) do not count: the API's configuration stays", () => {
    // n1 and n2 still list n3, but they were not edited (counts: false), and n3 is out and running.
    const stale = heard([[n1, { list: oldList, counts: false }], [n3, { list: oldList }]])
    expect(decide({ self: n2, voters: newList, declared: oldList, intent: false, heard: stale, now })).toEqual({ _tag: "None" })
  })

  it("a node to add must be running: an outsider not heard for 10 s is waited for", () => {
    const asking = heard([[n1, { list: newList }], [n2, { list: newList }], [nX, { list: newList, at: now - 11_000 }]])
    expect(decide({ self: n1, voters: oldList, declared: newList, intent: true, heard: asking, now })).toMatchObject({
      _tag: "Wait",
      missing: [nX]
    })
  })

  it("two lists each asked for by a majority of its nodes: nothing is changed", () => {
    const split = heard([[n3, { list: oldList }], [nX, { list: newList }], [n1, { list: newList }]])
    const d = decide({ self: n2, voters: [n1, n2], declared: oldList, intent: true, heard: split, now })
    expect(d._tag).toBe("Conflict")
  })

  it("a declaration already carried out (consumed) does not ask again", () => {
    const done = heard([[n1, { list: newList, consumed: true }], [nX, { list: newList, consumed: true }]])
    expect(decide({ self: n2, voters: [n1, n2], declared: [n1, n2], intent: false, heard: done, now })).toEqual({ _tag: "None" })
  })
})

describe("this node's declaration", () => {
  const dir = () => fs.mkdtempSync(path.join(os.tmpdir(), "orc-membership-"))

  it.effect("intent: RaftNodes differs from the list recorded when it last matched the cluster", () =>
    Effect.gen(function*() {
      const d = dir()
      fs.writeFileSync(path.join(d, "raft-nodes.json"), JSON.stringify({ raftNodes: oldList }))
      const edited = yield* make({ self: n1, raftNodes: [nX, n1, n2], dataDir: d })
      expect(edited.declaration()).toEqual({ raftNodes: [n1, n2, nX].sort(), intent: true })
      const same = yield* make({ self: n1, raftNodes: [n3, n2, n1], dataDir: d })
      expect(same.declaration().intent).toBe(false)
      fs.rmSync(d, { recursive: true, force: true })
    }))

  it.effect("nothing recorded: a node with no raft state (new, or wiped) asks for its RaftNodes", () =>
    Effect.gen(function*() {
      const d = dir()
      const m = yield* make({ self: nX, raftNodes: newList, dataDir: d })
      expect(m.declaration().intent).toBe(true)
      m.onRefused(n2, `${nX} is not in the configuration of ${n2}`, oldList)
      expect(m.refusalSummary()).toContain(`${n2} refused it`)
      fs.rmSync(d, { recursive: true, force: true })
    }))

  it.effect("nothing recorded but raft state present (upgraded from a version without the record): asks for nothing", () =>
    Effect.gen(function*() {
      const d = dir()
      fs.writeFileSync(path.join(d, "stable"), "")
      const m = yield* make({ self: n1, raftNodes: newList, dataDir: d })
      expect(m.declaration().intent).toBe(false)
      fs.rmSync(d, { recursive: true, force: true })
    }))

  it.effect("an outsider that asked keeps counting after it is added and reconnects as a member, until done", () =>
    Effect.gen(function*() {
      const d = dir()
      fs.writeFileSync(path.join(d, "stable"), "")
      const m = yield* make({ self: n2, raftNodes: oldList, dataDir: d })
      m.onDeclaration(nX, { raftNodes: newList, intent: false }, false)
      m.onDeclaration(nX, { raftNodes: newList, intent: false }, true)
      expect(m.state.heard.get(nX)).toMatchObject({ counts: true, consumed: false })
      // A member that never asked (unedited file) does not count.
      m.onDeclaration(n1, { raftNodes: oldList, intent: false }, true)
      expect(m.state.heard.get(n1)).toMatchObject({ counts: false })
      fs.rmSync(d, { recursive: true, force: true })
    }))
})
