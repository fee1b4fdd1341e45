/**
 * Statements sent to topology servers outside probing (recovery, refactoring, replication control).
 *
 * Many of them cannot be prepared on the server: MariaDB answers `PREPARE s FROM 'CHANGE MASTER TO
 * MASTER_HOST=?'` with ERROR 1064 (spec mariadb.md §3), so values are interpolated on the client with
 * MySQL's escaping rules and the statement goes through the text protocol. `sql` below is the only way
 * to build one: every interpolated value is escaped, identifiers go through `identifier`.
 */
import { Context, Data, type Effect } from "effect"
import type { RawResult } from "../topology/probe/RawRow.js"
import type { InstanceKey } from "../topology/InstanceKey.js"

/** A statement with its values already escaped into the text. */
export interface Statement {
  readonly _tag: "Statement"
  readonly text: string
}

export type SqlValue = string | number | bigint | boolean | null | Identifier | Raw

export interface Identifier {
  readonly _tag: "Identifier"
  readonly name: string
}

/** Trusted SQL text (keywords chosen by code, never user input). */
export interface Raw {
  readonly _tag: "Raw"
  readonly text: string
}

export const identifier = (name: string): Identifier => ({ _tag: "Identifier", name })
export const raw = (text: string): Raw => ({ _tag: "Raw", text })

// MySQL's string-literal escapes (mysql_real_escape_string): NUL, \n, \r, \, ', ", Ctrl-Z.
const escapes: Readonly<Record<string, string>> = {
  "\u0000": "\\0",
  "\n": "\\n",
  "\r": "\\r",
  "\\": "\\\\",
  "'": "\\'",
  "\"": "\\\"",
  "\u001a": "\\Z"
}

/** A quoted MySQL string literal. */
export const quoteString = (s: string): string => `'${s.replace(/[\u0000\n\r\\'"\u001a]/g, (c) => escapes[c]!)}'`

/** A value as SQL text. Non-finite numbers are refused (they have no SQL literal). */
export const literal = (v: SqlValue): string => {
  if (v === null) return "NULL"
  if (typeof v === "boolean") return v ? "1" : "0"
  if (typeof v === "bigint") return v.toString()
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new RangeError(`not a SQL number: ${v}`)
    return String(v)
  }
  if (typeof v === "string") return quoteString(v)
  if (v._tag === "Identifier") return `\`${v.name.replace(/`/g, "``")}\``
  return v.text
}

/** Tagged template: ``sql`CHANGE MASTER TO MASTER_HOST=${host}, MASTER_PORT=${port}` ``. */
export const sql = (strings: TemplateStringsArray, ...values: ReadonlyArray<SqlValue>): Statement => {
  let text = strings[0]!
  values.forEach((v, i) => {
    text += literal(v) + strings[i + 1]!
  })
  return { _tag: "Statement", text }
}

export class TopologySqlError extends Data.TaggedError("TopologySqlError")<{
  readonly key: InstanceKey
  readonly statement: string
  readonly errno: number
  readonly message: string
  readonly cause?: unknown
}> {}

export class TopologySql extends Context.Tag("orchestrator/TopologySql")<TopologySql, {
  /** Runs one statement (text protocol) on `key` as MySQLTopologyUser; rows for a result set, [] otherwise. */
  readonly execute: (key: InstanceKey, statement: Statement) => Effect.Effect<RawResult, TopologySqlError>
}>() {}
