/**
 * Which replica of a dead master to promote, decided purely and with reasons (spec orchestrator-compat
 * §4.4), so the recovery executor can audit every choice and a later leader can re-derive it.
 *
 * orchestrator decides in two passes while it changes the topology (go/inst/instance_topology.go
 * `GetCandidateReplica` / `chooseCandidateReplica`, then go/logic/topology_recovery.go
 * `SuggestReplacementForPromotedReplica`): promote the most advanced acceptable replica, then, if a
 * `must`/`prefer` replica (best in the dead master's DC and environment) or — when the promoted one is
 * `prefer_not` or breaks a geographic constraint — a `neutral` one exists, hand mastership to it with
 * take-master. The end state is the same as deciding once, up front:
 *
 * 1. Order the replicas best-first (`sortReplicas`): position, then orchestrator's tie-breakers.
 * 2. Reject, with reasons, every replica that cannot master the others: invalid check, no binlog, no
 *    log_slave_updates, binlog server, banned (`must_not`, PromotionIgnoreHostnameFilters), major version or
 *    binlog format above the siblings' most common one, geographic constraints, errant GTIDs, or behind the
 *    most advanced replica without a way to catch up from it.
 * 3. Among the rest, pick by promotion rule (must, prefer, neutral, prefer_not); among must/prefer, the
 *    dead master's DC and environment first; then the order of step 1.
 * 4. If none is acceptable, orchestrator's fallback: the best valid, non-banned replica (it will master
 *    nobody it cannot; the others are then lost).
 * 5. Classify the others against the candidate (`ahead`, `equal`, `later`, `cannotReplicate`); a candidate
 *    behind the most advanced replica first catches up from it (`catchUpFrom`) — orchestrator instead loses
 *    the replicas that are ahead, or replaces the promoted server after the fact.
 */
import * as Model from "../topology/Instance.js"
import type { Instance, PromotionRule } from "../topology/Instance.js"
import * as Key from "../topology/InstanceKey.js"
import type { InstanceKey } from "../topology/InstanceKey.js"
import { isBinlogServer, replicaCheckValid } from "./Counts.js"
import { filtersMatchInstanceKey } from "./Filters.js"
import * as Pos from "./Position.js"
import type { PromotionPolicy, Snapshot } from "./Snapshot.js"
import * as S from "./Snapshot.js"

// ---- orchestrator's comparisons ------------------------------------------------------------------------

const ruleOrder: Record<PromotionRule, number> = { must: 0, prefer: 1, neutral: 2, prefer_not: 3, must_not: 4 }

/** orchestrator `CandidatePromotionRule.BetterThan`. */
export const ruleBetterThan = (a: PromotionRule, b: PromotionRule): boolean => ruleOrder[a] < ruleOrder[b]

const majorTokens = (version: string): readonly [number, number] => {
  const m = /^(?:5\.5\.5-)?(\d+)\.(\d+)/.exec(version)
  return m ? [Number(m[1]), Number(m[2])] : [0, 0]
}

/** orchestrator `IsSmallerMajorVersion`: compares the first two version tokens numerically. */
export const isSmallerMajorVersion = (version: string, other: string): boolean => {
  const [a0, a1] = majorTokens(version)
  const [b0, b1] = majorTokens(other)
  return a0 < b0 || (a0 === b0 && a1 < b1)
}

/** orchestrator `IsSmallerBinlogFormat`: one can replicate from the smaller to the larger (STATEMENT < MIXED < ROW). */
export const isSmallerBinlogFormat = (format: string, other: string): boolean =>
  format === "STATEMENT" ? other === "ROW" || other === "MIXED" : format === "MIXED" ? other === "ROW" : false

const formatRank = (f: string): number => (f === "STATEMENT" ? 0 : f === "MIXED" ? 1 : f === "ROW" ? 2 : 3)

const lexicographic = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): number => {
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) return a[n]! - b[n]!
  return 0
}

/**
 * orchestrator `Instance.CanReplicateFrom`: the reason `replica` cannot replicate from `source`, or null.
 * (`VerifyReplicationFilters`, off by default and not in our config, is not checked.)
 */
export const cannotReplicateReason = (replica: Instance, source: Instance, policy: PromotionPolicy): string | null => {
  const src = Key.format(source.key)
  if (Key.equals(replica.key, source.key)) return "cannot replicate from itself"
  if (!source.logBinEnabled) return `${src} does not have binary logs enabled`
  if (Model.isReplica(source) && !source.logReplicationUpdatesEnabled) {
    return `${src} does not have log_slave_updates enabled`
  }
  if (isSmallerMajorVersion(replica.version, source.version) && !isBinlogServer(replica)) {
    return `version ${replica.version} is lower than ${source.version} on ${src}`
  }
  if (
    replica.logBinEnabled && replica.logReplicationUpdatesEnabled &&
    isSmallerBinlogFormat(replica.binlogFormat, source.binlogFormat)
  ) {
    return `cannot replicate from ${source.binlogFormat} binlog format on ${src} to ${replica.binlogFormat}`
  }
  if (replica.serverId === source.serverId && !isBinlogServer(replica)) {
    return `identical server id ${replica.serverId} as ${src}`
  }
  if (replica.serverUuid !== "" && replica.serverUuid === source.serverUuid && !isBinlogServer(replica)) {
    return `identical server UUID as ${src}`
  }
  const delay = Model.sqlDelay(source)
  if (Model.sqlDelay(replica) < delay && delay > policy.reasonableMaintenanceReplicationLagSeconds) {
    return `${src} has higher SQL_Delay (${delay} seconds) than this replica (${Model.sqlDelay(replica)} seconds)`
  }
  return null
}

/** The most common value; ties go to the value `preferred` ranks first (orchestrator's sorters). */
const mostCommon = (values: ReadonlyArray<string>, preferred: (a: string, b: string) => boolean): string => {
  const counts = new Map<string, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  let best = ""
  let bestCount = -1
  for (const [v, n] of [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > bestCount || (n === bestCount && preferred(v, best))) {
      best = v
      bestCount = n
    }
  }
  return best
}

/** `getPriorityMajorVersionForCandidate`: the most common major version; on a tie, the lower one. */
export const priorityMajorVersion = (replicas: ReadonlyArray<Instance>): string =>
  mostCommon(replicas.map(Model.majorVersionString), (a, b) => isSmallerMajorVersion(a, b))

/** `getPriorityBinlogFormatForCandidate`: the most common binlog format; on a tie, the smaller one. */
export const priorityBinlogFormat = (replicas: ReadonlyArray<Instance>): string =>
  mostCommon(replicas.map((r) => r.binlogFormat), (a, b) => isSmallerBinlogFormat(a, b))

// ---- ordering -------------------------------------------------------------------------------------------

export interface SortContext {
  readonly mode: Pos.PositionMode
  /** The dead master's data center (orchestrator's `dataCenterHint`). */
  readonly dataCenter: string
  readonly ruleOf: (key: InstanceKey) => PromotionRule
}

/**
 * Best first. orchestrator's `InstancesSorterByExec.Less` checks its tie-breakers one-sidedly (it is not a
 * strict weak ordering); this is the same list applied lexicographically: most advanced position,
 * log_slave_updates on, lower major version, smaller binlog format, the dead master's DC, no errant GTIDs,
 * better promotion rule — and the key, so the order is deterministic.
 */
export const compareReplicas = (ctx: SortContext) => (a: Instance, b: Instance): number => {
  const byPosition = Pos.linear(Pos.positionOf(b, ctx.mode), Pos.positionOf(a, ctx.mode))
  if (byPosition !== 0) return byPosition
  const tieBreakers = (x: Instance): ReadonlyArray<number> => {
    const [major, minor] = majorTokens(x.version)
    return [
      x.logReplicationUpdatesEnabled ? 0 : 1,
      major * 1000 + minor,
      formatRank(x.binlogFormat),
      ctx.dataCenter !== "" && x.dataCenter === ctx.dataCenter ? 0 : 1,
      Pos.errantOf(x) === "" ? 0 : 1,
      ruleOrder[ctx.ruleOf(x.key)]
    ]
  }
  const d = lexicographic(tieBreakers(a), tieBreakers(b))
  return d !== 0 ? d : Key.compare(a.key, b.key)
}

export const sortReplicas = (replicas: ReadonlyArray<Instance>, ctx: SortContext): ReadonlyArray<Instance> =>
  [...replicas].sort(compareReplicas(ctx))

// ---- decision -------------------------------------------------------------------------------------------

export type Role = "candidate" | "ahead" | "equal" | "later" | "cannotReplicate"

export interface ReplicaVerdict {
  readonly key: InstanceKey
  /** Place in the best-first order (0 = most advanced). */
  readonly rank: number
  readonly position: string
  readonly promotionRule: PromotionRule
  /** Why it could not be the (non-fallback) candidate; empty when it could. */
  readonly rejections: ReadonlyArray<string>
  readonly role: Role
  /** Its transactions or its replication are lost after this promotion. */
  readonly lost: boolean
  /** Why it has its role (and is lost, if so). */
  readonly reasons: ReadonlyArray<string>
}

export interface CandidateDecision {
  readonly candidate: InstanceKey | null
  readonly mode: Pos.PositionMode
  /** The first valid replica in the order: the most advanced one. */
  readonly mostAdvanced: InstanceKey | null
  /** The candidate must first replicate from this replica until it has its position (null: not needed). */
  readonly catchUpFrom: InstanceKey | null
  /** Chosen by orchestrator's fallback (no replica can master all the others). */
  readonly fallback: boolean
  readonly priorityMajorVersion: string
  readonly priorityBinlogFormat: string
  /** Every replica, best first. */
  readonly verdicts: ReadonlyArray<ReplicaVerdict>
  readonly ahead: ReadonlyArray<InstanceKey>
  readonly equal: ReadonlyArray<InstanceKey>
  readonly later: ReadonlyArray<InstanceKey>
  readonly cannotReplicate: ReadonlyArray<InstanceKey>
  readonly lost: ReadonlyArray<InstanceKey>
  /** Audit lines, in decision order. */
  readonly log: ReadonlyArray<string>
}

export interface CandidateInput {
  /** The failed master as last known (its DC, region and environment guide the choice); null if unknown. */
  readonly deadMaster: Instance | null
  readonly replicas: ReadonlyArray<Instance>
  readonly ruleOf: (key: InstanceKey) => PromotionRule
  readonly policy: PromotionPolicy
  /** An operator-designated candidate (`recover/:host/:port/:candidateHost/:candidatePort`). */
  readonly requested?: InstanceKey
}

/** The input for a dead master in a snapshot: its replicas, their promotion rules, the policy. */
export const inputFor = (s: Snapshot, master: InstanceKey, requested?: InstanceKey): CandidateInput => ({
  deadMaster: s.instances.get(Key.format(master)) ?? null,
  replicas: S.replicasOf(s, master),
  ruleOf: (k) => S.promotionRuleOf(s, k),
  policy: s.promotionPolicy,
  ...(requested === undefined ? {} : { requested })
})

interface Context {
  readonly input: CandidateInput
  readonly mode: Pos.PositionMode
  readonly sorted: ReadonlyArray<Instance>
  readonly mostAdvanced: Instance | null
  /** The most advanced replica is at or ahead of every other valid replica (no divergence). */
  readonly dominates: boolean
  readonly priorityMajorVersion: string
  readonly priorityBinlogFormat: string
}

const position = (ctx: Context, i: Instance): Pos.Position => Pos.positionOf(i, ctx.mode)

const makeContext = (input: CandidateInput): Context => {
  const mode = Pos.modeFor(input.replicas)
  const sorted = sortReplicas(input.replicas, { mode, dataCenter: input.deadMaster?.dataCenter ?? "", ruleOf: input.ruleOf })
  const valid = sorted.filter(replicaCheckValid)
  const mostAdvanced = valid[0] ?? null
  const top = mostAdvanced === null ? null : Pos.positionOf(mostAdvanced, mode)
  const dominates = top !== null && valid.every((r) => {
    const o = Pos.compare(top, Pos.positionOf(r, mode))
    return o === "equal" || o === "ahead"
  })
  return {
    input,
    mode,
    sorted,
    mostAdvanced,
    dominates,
    priorityMajorVersion: priorityMajorVersion(input.replicas),
    priorityBinlogFormat: priorityBinlogFormat(input.replicas)
  }
}

/** `IsBannedFromBeingCandidateReplica`. */
export const banReason = (i: Instance, rule: PromotionRule, policy: PromotionPolicy): string | null =>
  rule === "must_not"
    ? "promotion rule is must_not"
    : filtersMatchInstanceKey(policy.promotionIgnoreHostnameFilters, i.key)
    ? "matches PromotionIgnoreHostnameFilters"
    : null

/** `MasterFailoverGeographicConstraintSatisfied`: the reason a promotion would break a DC/region constraint. */
export const geographicReason = (i: Instance, deadMaster: Instance | null, policy: PromotionPolicy): string | null => {
  const dc = deadMaster?.dataCenter ?? ""
  const region = deadMaster?.region ?? ""
  if (policy.preventCrossDataCenterMasterFailover && i.dataCenter !== dc) {
    return `PreventCrossDataCenterMasterFailover: will not promote server in ${i.dataCenter} when failed server in ${dc}`
  }
  if (policy.preventCrossRegionMasterFailover && i.region !== region) {
    return `PreventCrossRegionMasterFailover: will not promote server in ${i.region} when failed server in ${region}`
  }
  return null
}

/** Why `i` cannot catch up to the most advanced replica, or null when it is there or can get there. */
const catchUpReason = (ctx: Context, i: Instance): string | null => {
  const top = ctx.mostAdvanced
  if (top === null || !ctx.dominates) return null
  const o = Pos.compare(position(ctx, i), position(ctx, top))
  if (o === "equal" || o === "ahead") return null
  const why = cannotReplicateReason(i, top, ctx.input.policy)
  return why === null ? null : `behind ${Key.format(top.key)} and cannot catch up from it: ${why}`
}

/** Everything that keeps `i` from being a regular candidate (`isGenerallyValidAsCandidateReplica` and more). */
const rejectionsOf = (ctx: Context, i: Instance): ReadonlyArray<string> => {
  const { policy, deadMaster } = ctx.input
  const major = Model.majorVersionString(i)
  const errant = Pos.errantOf(i)
  const checks: ReadonlyArray<string | null> = [
    replicaCheckValid(i) ? null : "last check is not valid",
    i.logBinEnabled ? null : "binary logs are disabled",
    i.logReplicationUpdatesEnabled ? null : "log_slave_updates is disabled",
    isBinlogServer(i) ? "is a binlog server" : null,
    banReason(i, ctx.input.ruleOf(i.key), policy),
    isSmallerMajorVersion(ctx.priorityMajorVersion, major)
      ? `major version ${major} is above the siblings' most common ${ctx.priorityMajorVersion}`
      : null,
    isSmallerBinlogFormat(ctx.priorityBinlogFormat, i.binlogFormat)
      ? `binlog format ${i.binlogFormat} is above the siblings' most common ${ctx.priorityBinlogFormat}`
      : null,
    geographicReason(i, deadMaster, policy),
    errant === "" ? null : `has errant GTIDs ${errant}`,
    catchUpReason(ctx, i)
  ]
  return checks.filter((r): r is string => r !== null)
}

const sameDcEnv = (i: Instance, dead: Instance | null): boolean =>
  dead !== null && i.dataCenter === dead.dataCenter && i.physicalEnvironment === dead.physicalEnvironment

/** Step 3: promotion rule; for must/prefer the dead master's DC+env first; then the best-first order. */
const pickByRules = (ctx: Context, acceptable: ReadonlyArray<Instance>): Instance | null => {
  const rank = (i: Instance): ReadonlyArray<number> => {
    const rule = ruleOrder[ctx.input.ruleOf(i.key)]
    const remote = rule <= ruleOrder.prefer && !sameDcEnv(i, ctx.input.deadMaster) ? 1 : 0
    return [rule, remote, ctx.sorted.indexOf(i)]
  }
  const ranked = acceptable.map((i) => ({ i, r: rank(i) })).sort((x, y) => lexicographic(x.r, y.r))
  return ranked[0]?.i ?? null
}

/** An operator-designated candidate: accepted when valid, with binlogs, and able to catch up. */
const requestedCandidate = (ctx: Context, key: InstanceKey): { readonly chosen: Instance | null; readonly log: string } => {
  const i = ctx.sorted.find((r) => Key.equals(r.key, key))
  if (i === undefined) {
    return { chosen: null, log: `requested candidate ${Key.format(key)} is not a replica of the failed master` }
  }
  const problems = [
    replicaCheckValid(i) ? null : "last check is not valid",
    i.logBinEnabled ? null : "binary logs are disabled",
    catchUpReason(ctx, i)
  ].filter((r): r is string => r !== null)
  return problems.length === 0
    ? { chosen: i, log: `requested candidate ${Key.format(key)} accepted (operator choice; promotion rules not applied)` }
    : { chosen: null, log: `requested candidate ${Key.format(key)} refused: ${problems.join("; ")}` }
}

/** Step 4, orchestrator's fallback: the best valid, non-banned replica that keeps the geographic constraints. */
const fallbackCandidate = (ctx: Context): Instance | null =>
  ctx.sorted.find((i) =>
    replicaCheckValid(i) && banReason(i, ctx.input.ruleOf(i.key), ctx.input.policy) === null &&
    geographicReason(i, ctx.input.deadMaster, ctx.input.policy) === null
  ) ?? null

interface Choice {
  readonly candidate: Instance | null
  readonly fallback: boolean
  readonly log: ReadonlyArray<string>
}

const choose = (ctx: Context, rejections: ReadonlyMap<Instance, ReadonlyArray<string>>): Choice => {
  if (ctx.input.requested !== undefined) {
    const r = requestedCandidate(ctx, ctx.input.requested)
    return { candidate: r.chosen, fallback: false, log: [r.log] }
  }
  const acceptable = ctx.sorted.filter((i) => (rejections.get(i) ?? []).length === 0)
  const picked = pickByRules(ctx, acceptable)
  if (picked !== null) {
    const rule = ctx.input.ruleOf(picked.key)
    return {
      candidate: picked,
      fallback: false,
      log: [`chose ${Key.format(picked.key)} (promotion rule ${rule}, rank ${ctx.sorted.indexOf(picked)})`]
    }
  }
  const fb = fallbackCandidate(ctx)
  return fb === null
    ? { candidate: null, fallback: false, log: ["no replica can be promoted"] }
    : { candidate: fb, fallback: true, log: [`no replica can master all the others; falling back to ${Key.format(fb.key)}`] }
}

type Classified = Pick<ReplicaVerdict, "role" | "lost" | "reasons">

/** Step 5: the role of a non-candidate replica and whether it is lost (`target`: where the candidate ends up). */
const classify = (ctx: Context, i: Instance, cand: Instance, target: Pos.Position): Classified => {
  const why = cannotReplicateReason(i, cand, ctx.input.policy)
  if (why !== null) return { role: "cannotReplicate", lost: true, reasons: [why] }
  const valid = replicaCheckValid(i)
  const invalid = valid ? [] : ["last check is not valid: cannot be repointed now"]
  const o = Pos.compare(position(ctx, i), position(ctx, cand))
  if (o === "behind") return { role: "later", lost: !valid, reasons: ["behind the candidate", ...invalid] }
  if (o === "equal") return { role: "equal", lost: !valid, reasons: ["at the candidate's position", ...invalid] }
  const afterCatchUp = Pos.compare(position(ctx, i), target)
  const kept = valid && (afterCatchUp === "equal" || afterCatchUp === "behind")
  return {
    role: "ahead",
    lost: !kept,
    reasons: [
      o === "diverged" ? "has transactions the candidate lacks (diverged)" : "ahead of the candidate",
      kept ? "covered by the candidate's catch-up" : "its extra transactions are lost",
      ...invalid
    ]
  }
}

const catchUpSource = (ctx: Context, cand: Instance): Instance | null => {
  const top = ctx.mostAdvanced
  if (top === null || Key.equals(top.key, cand.key) || !ctx.dominates) return null
  if (Pos.compare(position(ctx, cand), position(ctx, top)) !== "behind") return null
  return cannotReplicateReason(cand, top, ctx.input.policy) === null ? top : null
}

const verdictsOf = (
  ctx: Context,
  rejections: ReadonlyMap<Instance, ReadonlyArray<string>>,
  choice: Choice,
  source: Instance | null
): ReadonlyArray<ReplicaVerdict> => {
  const cand = choice.candidate
  const target = source !== null ? position(ctx, source) : cand !== null ? position(ctx, cand) : null
  return ctx.sorted.map((i, rank) => {
    const base = {
      key: i.key,
      rank,
      position: Pos.format(position(ctx, i)),
      promotionRule: ctx.input.ruleOf(i.key),
      rejections: rejections.get(i) ?? []
    }
    if (cand === null || target === null) return { ...base, role: "cannotReplicate", lost: true, reasons: ["no candidate"] }
    if (!Key.equals(i.key, cand.key)) return { ...base, ...classify(ctx, i, cand, target) }
    const catchUp = source === null ? [] : [`catches up from ${Key.format(source.key)} first`]
    return { ...base, role: "candidate", lost: false, reasons: [...choice.log, ...catchUp] }
  })
}

/** The decision for the given replicas of a dead master. */
export const chooseCandidate = (input: CandidateInput): CandidateDecision => {
  const ctx = makeContext(input)
  const rejections = new Map(ctx.sorted.map((i) => [i, rejectionsOf(ctx, i)] as const))
  const choice = choose(ctx, rejections)
  const source = choice.candidate === null ? null : catchUpSource(ctx, choice.candidate)
  const verdicts = verdictsOf(ctx, rejections, choice, source)
  const keys = (p: (v: ReplicaVerdict) => boolean) => verdicts.filter(p).map((v) => v.key)
  const divergence = ctx.dominates || ctx.mostAdvanced === null
    ? []
    : ["replica positions diverge: some transactions are lost whatever the choice"]
  return {
    candidate: choice.candidate?.key ?? null,
    mode: ctx.mode,
    mostAdvanced: ctx.mostAdvanced?.key ?? null,
    catchUpFrom: source?.key ?? null,
    fallback: choice.fallback,
    priorityMajorVersion: ctx.priorityMajorVersion,
    priorityBinlogFormat: ctx.priorityBinlogFormat,
    verdicts,
    ahead: keys((v) => v.role === "ahead"),
    equal: keys((v) => v.role === "equal"),
    later: keys((v) => v.role === "later"),
    cannotReplicate: keys((v) => v.role === "cannotReplicate"),
    lost: keys((v) => v.lost),
    log: [...choice.log, ...divergence]
  }
}

/** Human-readable lines for the recovery audit. */
export const describeDecision = (d: CandidateDecision): ReadonlyArray<string> => [
  `candidate selection by ${d.mode} position; most advanced: ${
    d.mostAdvanced === null ? "none" : Key.format(d.mostAdvanced)
  }`,
  ...d.log,
  ...d.verdicts.map((v) =>
    `${Key.format(v.key)} #${v.rank} ${v.role}${v.lost ? " (lost)" : ""} at ${v.position} [${v.promotionRule}]: ` +
    v.reasons.join("; ") +
    (v.rejections.length > 0 && v.role !== "candidate" ? ` (not a candidate: ${v.rejections.join("; ")})` : "")
  )
]
