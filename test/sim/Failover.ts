/**
 * Failover-time experiment for the timing defaults (docs/raft.md): a 3-node cluster under client load with
 * production timing (Config.defaults), a 5 ms simulator step and a 50 ms raft tick (tickEvery = 10, each
 * node's ticker with its own phase), 5–10 ms one-way network delay and 0–10 ms fsync. Each trial kills the
 * lease-holding leader at a random moment and measures how long until another node holds a lease, i.e. until
 * /api/leader-check answers 200 again. Elections other than the first and the post-kill ones are spurious.
 */
import * as Config from "../../core/raft/Config.js"
import * as Raft from "../../core/raft/Raft.js"
import type { SimOptions } from "./Options.js"
import { Rng } from "./Rng.js"
import { Simulator } from "./Simulator.js"

export interface FailoverReport {
  readonly trials: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly maxMs: number
  readonly spuriousElections: number
  readonly violations: ReadonlyArray<string>
}

const STEP_MS = 5
const TICK_MS = 50

const options = (seed: number, raft: Partial<Omit<Config.RaftConfig, "id">>): SimOptions => {
  const c = { ...Config.defaults, ...raft }
  return {
    seed,
    tickEvery: TICK_MS / STEP_MS,
    voters: 3,
    spares: 0,
    safetyTicks: 0,
    livenessTicks: 0,
    raft: {
      heartbeatTicks: c.heartbeatTicks,
      electionTicks: c.electionTicks,
      leaseTicks: c.leaseTicks,
      maxEntriesPerMsg: c.maxEntriesPerMsg,
      maxInflight: c.maxInflight,
      trailingLogs: 1000,
      snapshotChunkBytes: 1 << 16
    },
    net: {
      delayMinTicks: 1,
      delayMaxTicks: 2,
      lossPerMille: 0,
      duplicatePerMille: 0,
      partitionPerMille: 0,
      healPerMille: 0,
      asymmetricPerMille: 0
    },
    disk: { writeDelayMaxTicks: 2 },
    crashPerMille: 0,
    pausePerMille: 0,
    pauseMaxTicks: 1,
    restartPerMille: 0,
    // About 40 writes and 10 linearizable reads per second: "under load" for orchestrator.
    proposePerMille: 200,
    readPerMille: 50,
    confChangePerMille: 0,
    transferPerMille: 0,
    snapshotEveryEntries: 500
  }
}

const holder = (sim: Simulator) =>
  sim.nodes.find((n) => n.up && n.state !== undefined && Raft.isLeaderWithLease(n.state, n.state.now))

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

export const measureFailover = (
  trials: number,
  seed = 1,
  raft: Partial<Omit<Config.RaftConfig, "id">> = {}
): FailoverReport => {
  const rng = new Rng(seed)
  const samples: Array<number> = []
  let spurious = 0
  const violations: Array<string> = []
  for (let trial = 0; trial < trials; trial++) {
    const sim = new Simulator(options(seed * 100_000 + trial, raft))
    // Steady state for 2–4 s of simulated time; count elections after the first as spurious.
    const warmup = rng.int(400, 800)
    while (sim.t < warmup) sim.tick()
    spurious += Math.max(0, sim.stats.elections! - 1)
    const victim = holder(sim)
    if (victim === undefined) {
      violations.push(`trial ${trial}: no lease holder after warm-up`)
      continue
    }
    sim.crash(victim)
    const killedAt = sim.t
    while (sim.t - killedAt < 2000 && holder(sim) === undefined) sim.tick()
    if (holder(sim) === undefined) violations.push(`trial ${trial}: no new leader within 10 s`)
    else samples.push((sim.t - killedAt) * STEP_MS)
    violations.push(...sim.checker.violations)
  }
  const sorted = [...samples].sort((a, b) => a - b)
  return {
    trials,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? 0,
    spuriousElections: spurious,
    violations
  }
}
