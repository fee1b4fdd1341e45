/**
 * How far a replica has applied its master's stream, and how two replicas compare.
 *
 * orchestrator sorts candidates by `ExecBinlogCoordinates` (Relay_Master_Log_File:Exec_Master_Log_Pos,
 * go/inst/instance_utils.go `InstancesSorterByExec`), which is meaningful only among replicas of one master.
 * When every replica uses GTID we compare what GTID says was applied, which also survives relay-log
 * rotation and a master that restarted into a new binlog:
 * - MySQL: the executed GTID set without the replica's own errant GTIDs; A ≤ B iff A ⊆ B;
 * - MariaDB: `gtid_slave_pos` per domain, A ≤ B iff every domain's seq ≤ (mariadb.md §5 step 3; not
 *   `gtid_current_pos`, which local writes can push ahead — gotcha 3).
 * These are partial orders: two replicas can be `diverged`. For sorting, each has a linear extension
 * (`weight`: transaction count / sum of seq numbers), so "more advanced" always sorts first.
 *
 * Positions must be read after the relay logs are drained (mariadb.md §5 gotcha 2): this module compares
 * whatever the snapshot holds.
 */
import { Either } from "effect"
import * as Model from "../topology/Instance.js"
import type { BinlogCoordinates, Instance } from "../topology/Instance.js"
import * as Gtid from "./GtidSet.js"

export type PositionMode = "mysql-gtid" | "mariadb-gtid" | "binlog"

export type Position =
  | { readonly mode: "mysql-gtid"; readonly set: Gtid.GtidSet }
  | { readonly mode: "mariadb-gtid"; readonly pos: Gtid.MariaDbPosition }
  | { readonly mode: "binlog"; readonly coordinates: BinlogCoordinates }

/** orchestrator `BinlogCoordinates.SmallerThan`: file name (string order), then position. */
export const compareCoordinates = (a: BinlogCoordinates, b: BinlogCoordinates): number =>
  a.logFile < b.logFile ? -1 : a.logFile > b.logFile ? 1 : a.logPos - b.logPos

const execCoordinates = (i: Instance): BinlogCoordinates =>
  i.replication?.execBinlogCoordinates ?? Model.emptyCoordinates()

const mysqlExecuted = (i: Instance): string =>
  i.executedGtidSet !== "" ? i.executedGtidSet : i.replication?.executedGtidSet ?? ""

/** The MySQL position: executed minus the replica's own errant transactions. */
const mysqlPosition = (i: Instance): Either.Either<Gtid.GtidSet, string> =>
  Either.flatMap(Gtid.parse(mysqlExecuted(i)), (executed) =>
    Either.map(Gtid.parse(i.gtidErrant), (errant) => Gtid.subtract(executed, errant)))

const mariaDbPosition = (i: Instance): Either.Either<Gtid.MariaDbPosition, string> =>
  i.mariadbGtid === null
    ? Either.left(`${i.key.hostname}:${i.key.port} has no MariaDB GTID state`)
    : Gtid.parseMariaDb(i.mariadbGtid.slavePos)

/**
 * The comparison every replica supports: GTID of one kind when all use it and all positions parse, else
 * binlog coordinates (orchestrator's only method).
 */
export const modeFor = (replicas: ReadonlyArray<Instance>): PositionMode => {
  if (replicas.length === 0) return "binlog"
  if (replicas.every((r) => Model.usingOracleGtid(r) && Either.isRight(mysqlPosition(r)))) return "mysql-gtid"
  if (replicas.every((r) => Model.usingMariaDbGtid(r) && Either.isRight(mariaDbPosition(r)))) return "mariadb-gtid"
  return "binlog"
}

/** The position of `i` in `mode`; falls back to exec coordinates if the GTID text does not parse. */
export const positionOf = (i: Instance, mode: PositionMode): Position => {
  if (mode === "mysql-gtid") {
    const p = mysqlPosition(i)
    if (Either.isRight(p)) return { mode, set: p.right }
  }
  if (mode === "mariadb-gtid") {
    const p = mariaDbPosition(i)
    if (Either.isRight(p)) return { mode, pos: p.right }
  }
  return { mode: "binlog", coordinates: execCoordinates(i) }
}

/** `a` relative to `b`. Positions of different modes compare by nothing: `diverged`. */
export const compare = (a: Position, b: Position): Gtid.Order => {
  if (a.mode === "mysql-gtid" && b.mode === "mysql-gtid") return Gtid.compare(a.set, b.set)
  if (a.mode === "mariadb-gtid" && b.mode === "mariadb-gtid") return Gtid.compareMariaDb(a.pos, b.pos)
  if (a.mode === "binlog" && b.mode === "binlog") {
    const d = compareCoordinates(a.coordinates, b.coordinates)
    return d === 0 ? "equal" : d > 0 ? "ahead" : "behind"
  }
  return "diverged"
}

/**
 * Linear order consistent with `compare` (if a is ahead of b, `linear(a, b) > 0`): GTID count / seq sum,
 * binlog coordinates. Equal weights of diverged positions compare 0 (left to tie-breakers).
 */
export const linear = (a: Position, b: Position): number => {
  if (a.mode === "mysql-gtid" && b.mode === "mysql-gtid") return Gtid.count(a.set) - Gtid.count(b.set)
  if (a.mode === "mariadb-gtid" && b.mode === "mariadb-gtid") return Gtid.mariaDbWeight(a.pos) - Gtid.mariaDbWeight(b.pos)
  if (a.mode === "binlog" && b.mode === "binlog") return compareCoordinates(a.coordinates, b.coordinates)
  return 0
}

export const format = (p: Position): string =>
  p.mode === "mysql-gtid"
    ? Gtid.format(p.set)
    : p.mode === "mariadb-gtid"
    ? Gtid.formatMariaDb(p.pos)
    : `${p.coordinates.logFile}:${p.coordinates.logPos}`

/**
 * A replica's errant transactions: MySQL's `gtid_errant` (computed against the master at probe time), or
 * MariaDB local writes (`gtid_current_pos` ≠ `gtid_slave_pos` in a replicated domain). "" when none.
 */
export const errantOf = (i: Instance): string => {
  if (i.gtidErrant !== "") return i.gtidErrant
  const g = i.mariadbGtid
  if (g === null) return ""
  const slave = Gtid.parseMariaDb(g.slavePos)
  const current = Gtid.parseMariaDb(g.currentPos)
  if (Either.isLeft(slave) || Either.isLeft(current)) return ""
  return Gtid.formatMariaDb(new Map(Gtid.mariaDbLocalWrites(slave.right, current.right).map((x) => [x.domain, x] as const)))
}
