/**
 * A short chaos soak (test/chaos/Chaos.ts): three real nodes behind the proxy, concurrent clients, six
 * faults of every kind, on the leader or a follower as the seed says, then the four checks: identical
 * replicated tables, no acknowledged write lost, no stale leader, a linearizable history. And a
 * negative control: the same pipeline must report stale reads when reads bypass the leader.
 * The seed is random unless CHAOS_SEED is set, and printed first; `npm run chaos -- --seed S --faults 6`
 * replays the schedule (the long soak is `npm run chaos -- --faults N`). Needs root for nft partitions.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { describe, expect, it } from "vitest"
import { runChaos } from "../chaos/Chaos.js"

const seed = process.env.CHAOS_SEED !== undefined ? Number(process.env.CHAOS_SEED) : crypto.randomInt(1, 2 ** 31)

describe("chaos soak", () => {
  it(`survives kill -9, SIGSTOP, partitions and a wiped disk with every check passing (SEED=${seed})`, async () => {
    const report = await runChaos({
      seed,
      faults: 6,
      // The wipe comes fourth, when the leader has certainly compacted its log (snapshots every 50
      // entries, 20 kept): the wiped node can then only come back by InstallSnapshot. Restarts are the
      // slow faults on a loaded machine, hence one kill and one wipe.
      kinds: ["pause", "partition", "kill", "wipe"],
      kindsInTurn: true,
      faultMillis: [300, 1500],
      gapMillis: [200, 800]
    })
    expect(report.violations).toEqual([])
    expect(report.faults.map((f) => f.kind)).toEqual(["pause", "partition", "kill", "wipe", "pause", "partition"])
    expect(report.faults.filter((f) => f.kind === "wipe").map((f) => f.snapshotInstalled)).toEqual([true])
    // The workload really ran through the faults: acknowledged writes and reads.
    const byOutcome = report.stats.byOutcome as Record<string, number>
    expect(byOutcome.ok).toBeGreaterThan(50)
    expect(byOutcome.value).toBeGreaterThan(50)
    expect(report.stats.linearizability).toMatchObject({ verdict: "Ok", keys: 9 })
  }, 300_000)

  it(`reports stale reads when reads go straight to random backends (negative control, SEED=${seed})`, async () => {
    // A paused node's backend is frozen for 3 s while the others acknowledge writes: a third of the reads
    // go there, so some read misses an acknowledged write. Whether one does within a pause depends on timing
    // (with 3 pauses, one CI run in several found none): 5 pauses make a miss unlikely.
    const report = await runChaos({
      seed,
      faults: 5,
      kinds: ["pause"],
      faultMillis: [3000, 3000],
      readVia: "random-backend"
    })
    expect(report.violations).toEqual([expect.stringMatching(/^\(iv\) not linearizable/)])
    // The "FAILED" run keeps its logs and data for inspection; here the failure is the expected outcome.
    fs.rmSync(report.logDir, { recursive: true, force: true })
  }, 300_000)
})
