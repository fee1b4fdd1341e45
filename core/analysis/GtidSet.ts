/**
 * GTID positions, pure: MySQL executed GTID sets and MariaDB per-domain positions.
 *
 * MySQL (`@@gtid_executed`, `Executed_Gtid_Set`): `uuid:1-5:7,uuid2:1-3`, with optional whitespace and
 * newlines after commas (SHOW REPLICA STATUS wraps them), and MySQL 8.3+ tagged GTIDs
 * (`uuid:tag:1-5` — a tag switches the source of the intervals that follow it). A set is a map from
 * source (`uuid` or `uuid:tag`) to sorted, disjoint, non-adjacent inclusive intervals. Comparing two
 * replicas' sets is a subset question: A is "behind or equal" B iff A ⊆ B (orchestrator compares exec
 * binlog coordinates instead, which only works while all replicas read the same master's binlog).
 *
 * MariaDB (`@@gtid_slave_pos`, `@@gtid_current_pos`): `domain-server-seq` per replication domain; one
 * position per domain (the last applied), so "behind or equal" is seq ≤ seq in every domain (mariadb.md
 * §5 step 3: "candidate = highest seq_no of gtid_slave_pos, per domain").
 *
 * Invariant of every `GtidSet` value: each interval list is non-empty, sorted, with `start <= end`, and
 * consecutive intervals are separated by at least one missing number (merged when they touch).
 */
import { Either } from "effect"

/** An inclusive interval of transaction numbers. */
export interface Interval {
  readonly start: number
  readonly end: number
}

/** Source (`uuid` lower-cased, or `uuid:tag`) → normalized intervals. */
export type GtidSet = ReadonlyMap<string, ReadonlyArray<Interval>>

export const empty: GtidSet = new Map()

const uuidRe = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/
const tagRe = /^[a-zA-Z_][a-zA-Z0-9_]{0,31}$/
const intervalRe = /^([0-9]{1,16})(?:-([0-9]{1,16}))?$/

/** Sorts and merges touching or overlapping intervals. */
const normalize = (intervals: ReadonlyArray<Interval>): ReadonlyArray<Interval> => {
  const sorted = [...intervals].sort((a, b) => a.start - b.start)
  const out: Array<Interval> = []
  for (const iv of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && iv.start <= last.end + 1) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, iv.end) }
    } else {
      out.push(iv)
    }
  }
  return out
}

const fromEntries = (entries: Iterable<readonly [string, ReadonlyArray<Interval>]>): GtidSet => {
  const m = new Map<string, ReadonlyArray<Interval>>()
  for (const [source, intervals] of entries) {
    const merged = normalize([...(m.get(source) ?? []), ...intervals])
    if (merged.length > 0) m.set(source, merged)
  }
  return new Map([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

const parseInterval = (text: string): Interval | string => {
  const m = intervalRe.exec(text)
  if (m === null) return `bad interval "${text}"`
  const start = Number(m[1])
  const end = m[2] === undefined ? start : Number(m[2])
  if (!Number.isSafeInteger(end) || start < 1 || end < start) return `bad interval "${text}"`
  return { start, end }
}

/** One `uuid:1-5:tag:7` member: intervals before any tag belong to the uuid, after a tag to `uuid:tag`. */
const parseMember = (member: string): Array<readonly [string, Array<Interval>]> | string => {
  const parts = member.split(":").map((p) => p.trim())
  const uuid = parts[0] ?? ""
  if (!uuidRe.test(uuid)) return `bad source uuid "${uuid}"`
  const base = uuid.toLowerCase()
  const out: Array<readonly [string, Array<Interval>]> = []
  let current: Array<Interval> = []
  out.push([base, current])
  for (const part of parts.slice(1)) {
    if (tagRe.test(part)) {
      current = []
      out.push([`${base}:${part.toLowerCase()}`, current])
      continue
    }
    const iv = parseInterval(part)
    if (typeof iv === "string") return iv
    current.push(iv)
  }
  return out
}

/** Parses MySQL's GTID set text ("" is the empty set). */
export const parse = (text: string): Either.Either<GtidSet, string> => {
  const members = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  const entries: Array<readonly [string, ReadonlyArray<Interval>]> = []
  for (const member of members) {
    const parsed = parseMember(member)
    if (typeof parsed === "string") return Either.left(`cannot parse GTID set "${text}": ${parsed}`)
    entries.push(...parsed)
  }
  return Either.right(fromEntries(entries))
}

const formatInterval = (iv: Interval): string => (iv.start === iv.end ? `${iv.start}` : `${iv.start}-${iv.end}`)

/** MySQL's text form (sources sorted, `uuid:1-5:7`); tagged sources are written as their own member. */
export const format = (set: GtidSet): string =>
  [...set.entries()]
    .map(([source, ivs]) => `${source}:${ivs.map(formatInterval).join(":")}`)
    .join(",")

export const isEmpty = (set: GtidSet): boolean => set.size === 0

/** Number of transactions: strictly monotone under strict inclusion, so it linearly extends ⊆. */
export const count = (set: GtidSet): number => {
  let n = 0
  for (const ivs of set.values()) for (const iv of ivs) n += iv.end - iv.start + 1
  return n
}

export const union = (a: GtidSet, b: GtidSet): GtidSet => fromEntries([...a.entries(), ...b.entries()])

/** Intervals of `a` not covered by `b` (both normalized). */
const subtractIntervals = (a: ReadonlyArray<Interval>, b: ReadonlyArray<Interval>): Array<Interval> => {
  const out: Array<Interval> = []
  for (const iv of a) {
    let start = iv.start
    for (const cut of b) {
      if (cut.end < start || cut.start > iv.end) continue
      if (cut.start > start) out.push({ start, end: cut.start - 1 })
      start = cut.end + 1
      if (start > iv.end) break
    }
    if (start <= iv.end) out.push({ start, end: iv.end })
  }
  return out
}

/** `a − b`: what `a` has that `b` lacks (MySQL's GTID_SUBTRACT). */
export const subtract = (a: GtidSet, b: GtidSet): GtidSet =>
  fromEntries([...a.entries()].map(([source, ivs]) => [source, subtractIntervals(ivs, b.get(source) ?? [])] as const))

export const intersect = (a: GtidSet, b: GtidSet): GtidSet => subtract(a, subtract(a, b))

/** `a ⊆ b` (MySQL's GTID_SUBSET). */
export const isSubset = (a: GtidSet, b: GtidSet): boolean => isEmpty(subtract(a, b))

export const equals = (a: GtidSet, b: GtidSet): boolean => isSubset(a, b) && isSubset(b, a)

export const contains = (set: GtidSet, source: string, n: number): boolean =>
  (set.get(source.toLowerCase()) ?? []).some((iv) => iv.start <= n && n <= iv.end)

/** How one position relates to another. `diverged`: each has something the other lacks. */
export type Order = "equal" | "ahead" | "behind" | "diverged"

/** `a` relative to `b` under set inclusion. */
export const compare = (a: GtidSet, b: GtidSet): Order => {
  const aInB = isSubset(a, b)
  const bInA = isSubset(b, a)
  return aInB && bInA ? "equal" : aInB ? "behind" : bInA ? "ahead" : "diverged"
}

// ---- MariaDB ---------------------------------------------------------------------------------------

export interface MariaDbGtid {
  readonly domain: number
  readonly serverId: number
  readonly seq: number
}

/** Domain → the last GTID of that domain. */
export type MariaDbPosition = ReadonlyMap<number, MariaDbGtid>

const mariaRe = /^([0-9]{1,10})-([0-9]{1,10})-([0-9]{1,20})$/

/** Parses `0-1-100,1-2-5`; a domain listed twice keeps the last entry (MariaDB never lists one twice). */
export const parseMariaDb = (text: string): Either.Either<MariaDbPosition, string> => {
  const m = new Map<number, MariaDbGtid>()
  for (const part of text.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
    const g = mariaRe.exec(part)
    if (g === null) return Either.left(`cannot parse MariaDB GTID position "${text}": bad GTID "${part}"`)
    const seq = Number(g[3])
    if (!Number.isSafeInteger(seq)) return Either.left(`cannot parse MariaDB GTID position "${text}": seq too large`)
    m.set(Number(g[1]), { domain: Number(g[1]), serverId: Number(g[2]), seq })
  }
  return Either.right(new Map([...m.entries()].sort(([a], [b]) => a - b)))
}

export const formatMariaDb = (pos: MariaDbPosition): string =>
  [...pos.values()].map((g) => `${g.domain}-${g.serverId}-${g.seq}`).join(",")

/** Sum of seq numbers: monotone under the per-domain order, so it linearly extends `compareMariaDb`. */
export const mariaDbWeight = (pos: MariaDbPosition): number => {
  let n = 0
  for (const g of pos.values()) n += g.seq
  return n
}

/**
 * `a` relative to `b`, domain by domain on seq numbers (a missing domain is seq 0). Server ids are not
 * compared: after a failover the same domain continues with the new master's server id (mariadb.md §5.7).
 */
export const compareMariaDb = (a: MariaDbPosition, b: MariaDbPosition): Order => {
  let aheadSomewhere = false
  let behindSomewhere = false
  for (const domain of new Set([...a.keys(), ...b.keys()])) {
    const sa = a.get(domain)?.seq ?? 0
    const sb = b.get(domain)?.seq ?? 0
    if (sa > sb) aheadSomewhere = true
    if (sa < sb) behindSomewhere = true
  }
  return aheadSomewhere && behindSomewhere ? "diverged" : aheadSomewhere ? "ahead" : behindSomewhere ? "behind" : "equal"
}

/**
 * Domains where `gtid_current_pos` differs from `gtid_slave_pos`: the server wrote its own transactions
 * in a domain it also replicates (mariadb.md §5 gotcha 3) — MariaDB's form of errant GTIDs.
 */
export const mariaDbLocalWrites = (slavePos: MariaDbPosition, currentPos: MariaDbPosition): ReadonlyArray<MariaDbGtid> =>
  [...currentPos.values()].filter((g) => {
    const s = slavePos.get(g.domain)
    return s !== undefined && (s.seq !== g.seq || s.serverId !== g.serverId)
  })
