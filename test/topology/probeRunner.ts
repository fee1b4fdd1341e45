/**
 * Test helper: runs probe rounds over a mysql2 connection the way a prober would (one multi-statement
 * text query per round) and collects `ProbeResults`. Falls back to one statement at a time when a batch
 * fails, recording each statement's failure (ProbePlan's contract).
 */
import type * as mysql from "mysql2/promise"
import * as ProbeParse from "../../core/topology/probe/ProbeParse.js"
import * as ProbePlan from "../../core/topology/probe/ProbePlan.js"
import type { RawResult } from "../../core/topology/probe/RawRow.js"
import * as ServerVersion from "../../core/topology/probe/ServerVersion.js"

interface DriverError {
  readonly errno?: number
  readonly sqlState?: string
  readonly message: string
}

const failure = (e: unknown): ProbeParse.StatementFailure => {
  const d = e as DriverError
  return ProbeParse.statementFailure(d.errno ?? 0, d.message, d.sqlState ?? "HY000")
}

export interface RoundOutcome {
  readonly results: ProbeParse.ProbeResults
  /** COM_QUERY packets sent (1, or 1 + statements when the batch failed). */
  readonly queries: number
}

export const runRound = async (
  conn: mysql.Connection,
  round: ProbePlan.ProbeRound,
  into: ProbeParse.ProbeResults = {}
): Promise<RoundOutcome> => {
  const out: ProbeParse.ProbeResults = { ...into }
  let queries = 1
  try {
    const [rows] = await conn.query(ProbePlan.batchSql(round))
    // mysql2 with multipleStatements: an array of result sets when there are several statements.
    const sets = (round.statements.length === 1 ? [rows] : rows) as ReadonlyArray<RawResult>
    round.statements.forEach((s, i) => {
      out[s.id] = sets[i] ?? []
    })
  } catch {
    for (const s of round.statements) {
      queries++
      try {
        const [rows] = await conn.query(s.sql)
        out[s.id] = rows as RawResult
      } catch (e) {
        out[s.id] = failure(e)
      }
    }
  }
  return { results: out, queries }
}

/** A cold probe: discovery, flavour, optional. Returns the results and the number of COM_QUERY sent. */
export const coldProbe = async (
  conn: mysql.Connection,
  options: ProbePlan.PlanOptions = ProbePlan.defaultPlanOptions
): Promise<RoundOutcome> => {
  const first = await runRound(conn, ProbePlan.discoveryRound)
  const version = ProbeParse.versionOf(first.results)
  if (version === undefined) return first
  const second = await runRound(conn, ProbePlan.flavourRound(version), first.results)
  const optional = ProbePlan.optionalRound(version, ProbeParse.optionalFacts(second.results), options)
  if (optional === undefined) return { results: second.results, queries: first.queries + second.queries }
  const third = await runRound(conn, optional, second.results)
  return { results: third.results, queries: first.queries + second.queries + third.queries }
}

/** A warm probe: discovery+flavour for the assumed version, re-planned if the version changed. */
export const warmProbe = async (
  conn: mysql.Connection,
  assumedVersion: string,
  options: ProbePlan.PlanOptions = ProbePlan.defaultPlanOptions
): Promise<RoundOutcome> => {
  const assumed = ServerVersion.parse(assumedVersion)
  const first = await runRound(conn, ProbePlan.warmRound(assumed))
  const actual = ProbeParse.versionOf(first.results)
  if (actual === undefined) return first
  let results = first.results
  let queries = first.queries
  if (!ProbePlan.confirmsVersion(assumed, actual)) {
    const again = await runRound(conn, ProbePlan.flavourRound(actual), results)
    results = again.results
    queries += again.queries
  }
  const optional = ProbePlan.optionalRound(actual, ProbeParse.optionalFacts(results), options)
  if (optional === undefined) return { results, queries }
  const last = await runRound(conn, optional, results)
  return { results: last.results, queries: queries + last.queries }
}
