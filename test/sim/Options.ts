/**
 * Every knob of one simulation run, drawn from the seed (TigerBeetle vopr.zig options_swarm): the run is
 * printed as one `SEED=<n> {json}` line before it starts, so a failure is replayed from the seed alone.
 */
import { Rng } from "./Rng.js"

export interface SimOptions {
  readonly seed: number
  /** Simulator ticks per raft tick (each node's ticker has its own phase); 1 in fault runs. */
  readonly tickEvery: number
  /** Initial voters and spare nodes that membership changes may add. */
  readonly voters: number
  readonly spares: number
  readonly safetyTicks: number
  readonly livenessTicks: number
  readonly raft: {
    readonly heartbeatTicks: number
    readonly electionTicks: number
    readonly leaseTicks: number
    readonly maxEntriesPerMsg: number
    readonly maxInflight: number
    readonly trailingLogs: number
    readonly snapshotChunkBytes: number
  }
  readonly net: {
    readonly delayMinTicks: number
    readonly delayMaxTicks: number
    readonly lossPerMille: number
    readonly duplicatePerMille: number
    /** Per tick: chance that a new partition starts (when none) and that it heals (when one exists). */
    readonly partitionPerMille: number
    readonly healPerMille: number
    /** Chance that a new partition is one-way (messages flow from one side only). */
    readonly asymmetricPerMille: number
  }
  readonly disk: {
    readonly writeDelayMaxTicks: number
  }
  /** Per tick, per cluster (not per node). */
  readonly crashPerMille: number
  /**
   * Per tick, per cluster: a running node stops (SIGSTOP, a long GC or a starved event loop) for 1 to
   * pauseMaxTicks ticks. Its clock runs on, nothing of it runs; what is sent to it waits (TCP buffers).
   */
  readonly pausePerMille: number
  readonly pauseMaxTicks: number
  readonly restartPerMille: number
  readonly proposePerMille: number
  readonly readPerMille: number
  readonly confChangePerMille: number
  readonly transferPerMille: number
  /** Each node snapshots after this many applied entries since its last snapshot. */
  readonly snapshotEveryEntries: number
}

export const drawOptions = (seed: number, scale = 1): SimOptions => {
  const r = new Rng(seed)
  // Chosen so that a healthy cluster can hold its lease: leaseTicks > heartbeatTicks + round trip.
  const electionTicks = r.int(6, 14)
  const heartbeatTicks = r.int(1, Math.max(1, Math.floor(electionTicks / 4)))
  const delayMaxTicks = r.int(1, Math.max(1, Math.floor((electionTicks - 3 - heartbeatTicks) / 2)))
  // Quiet runs exist too: some seeds draw no faults of a kind at all (swarm testing).
  const knob = (max: number) => (r.chance(200) ? 0 : r.int(0, max))
  return {
    seed,
    tickEvery: 1,
    voters: r.pick([1, 3, 3, 3, 5, 5]),
    spares: r.int(0, 2),
    safetyTicks: Math.round(r.int(200, 500) * scale),
    livenessTicks: 60 * electionTicks + 200,
    raft: {
      heartbeatTicks,
      electionTicks,
      leaseTicks: r.int(Math.min(electionTicks - 2, heartbeatTicks + 2 * delayMaxTicks + 1), electionTicks - 2),
      maxEntriesPerMsg: r.int(1, 8),
      maxInflight: r.int(1, 8),
      trailingLogs: r.int(0, 20),
      snapshotChunkBytes: r.int(32, 512)
    },
    net: {
      delayMinTicks: 1,
      delayMaxTicks,
      lossPerMille: knob(250),
      duplicatePerMille: knob(150),
      partitionPerMille: knob(30),
      healPerMille: r.int(10, 100),
      asymmetricPerMille: r.int(0, 1000)
    },
    disk: { writeDelayMaxTicks: r.int(0, 3) },
    crashPerMille: knob(15),
    restartPerMille: r.int(20, 200),
    proposePerMille: r.int(50, 600),
    readPerMille: knob(200),
    confChangePerMille: knob(10),
    transferPerMille: knob(10),
    snapshotEveryEntries: r.int(3, 40),
    // Drawn last, so every other knob of a seed is what it was before pauses existed.
    pausePerMille: knob(15),
    pauseMaxTicks: r.int(1, 4 * electionTicks)
  }
}
