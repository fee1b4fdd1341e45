/**
 * Result rows as a MySQL driver hands them over: column name → value. With mysql2's defaults
 * (mysql8.md §7.1) LONG/LONGLONG columns arrive as numbers, strings as strings, NULL as null; with
 * `supportBigNumbers`/`bigNumberStrings` large integers may arrive as strings or bigints, and some drivers
 * give byte arrays for binary-collated text. All of these are accepted.
 *
 * Column names are looked up case-insensitively and through alias lists, because the same column is
 * spelt `Master_Host` / `Source_Host`, `Channel_name` / `Channel_Name`, `Server_id` / `Server_Id` across
 * versions and statements (mysql8.md §1.1 "Look columns up by name, case-insensitively, with an old/new
 * alias table").
 */

export type SqlValue = string | number | bigint | boolean | null | Uint8Array

export type RawRow = Readonly<Record<string, SqlValue>>

export type RawResult = ReadonlyArray<RawRow>

const decoder = new TextDecoder()

/** The value of the first of `names` present in the row (case-insensitive); undefined when none is. */
export const field = (row: RawRow, ...names: ReadonlyArray<string>): SqlValue | undefined => {
  for (const name of names) {
    if (Object.prototype.hasOwnProperty.call(row, name)) return row[name]
  }
  const wanted = names.map((n) => n.toLowerCase())
  for (const key of Object.keys(row)) {
    if (wanted.includes(key.toLowerCase())) return row[key]
  }
  return undefined
}

/** True when one of the columns exists in the row (even with a NULL value). */
export const has = (row: RawRow, ...names: ReadonlyArray<string>): boolean => field(row, ...names) !== undefined

const asText = (v: SqlValue): string =>
  v instanceof Uint8Array ? decoder.decode(v) : typeof v === "boolean" ? (v ? "1" : "0") : String(v)

/** Text value; `def` when the column is absent or NULL (orchestrator's `GetStringD`; `GetString` gives ""). */
export const str = (row: RawRow, names: string | ReadonlyArray<string>, def = ""): string => {
  const v = field(row, ...(typeof names === "string" ? [names] : names))
  return v === undefined || v === null ? def : asText(v)
}

/** Integer value, or null when absent, NULL or not an integer. */
export const nullableInt = (row: RawRow, names: string | ReadonlyArray<string>): number | null => {
  const v = field(row, ...(typeof names === "string" ? [names] : names))
  return toInt(v)
}

export const toInt = (v: SqlValue | undefined): number | null => {
  if (v === undefined || v === null) return null
  if (typeof v === "number") return Number.isFinite(v) ? Math.trunc(v) : null
  if (typeof v === "bigint") return Number(v)
  if (typeof v === "boolean") return v ? 1 : 0
  const t = asText(v).trim()
  if (!/^-?\d+$/.test(t)) return null
  return Number(t)
}

/** Integer value, `def` when absent/NULL/unparseable (orchestrator's `GetIntD`/`GetUintD`). */
export const int = (row: RawRow, names: string | ReadonlyArray<string>, def = 0): number =>
  nullableInt(row, names) ?? def

/** A non-negative integer (orchestrator scans these into `uint`): negatives become 0. */
export const uint = (row: RawRow, names: string | ReadonlyArray<string>, def = 0): number =>
  Math.max(0, int(row, names, def))

/**
 * Boolean in any of MySQL's spellings: 1/0 (`SELECT @@read_only`), ON/OFF (`SHOW VARIABLES`), Yes/No,
 * true/false. Absent/NULL → `def`.
 */
export const bool = (row: RawRow, names: string | ReadonlyArray<string>, def = false): boolean => {
  const v = field(row, ...(typeof names === "string" ? [names] : names))
  return toBool(v, def)
}

export const toBool = (v: SqlValue | undefined, def = false): boolean => {
  if (v === undefined || v === null) return def
  if (typeof v === "boolean") return v
  if (typeof v === "number") return v !== 0
  if (typeof v === "bigint") return v !== 0n
  const t = asText(v).trim().toUpperCase()
  if (t === "ON" || t === "YES" || t === "TRUE") return true
  if (t === "OFF" || t === "NO" || t === "FALSE" || t === "") return false
  const n = Number(t)
  return Number.isFinite(n) ? n !== 0 : def
}

/**
 * `SHOW VARIABLES` / `SHOW STATUS` rows (`Variable_name`, `Value`) as a map keyed by lower-cased name.
 */
export const nameValueMap = (rows: RawResult): ReadonlyMap<string, SqlValue> => {
  const out = new Map<string, SqlValue>()
  for (const row of rows) {
    const name = field(row, "Variable_name")
    if (name === undefined || name === null) continue
    out.set(asText(name).toLowerCase(), field(row, "Value") ?? null)
  }
  return out
}

export const valueText = (v: SqlValue | undefined, def = ""): string =>
  v === undefined || v === null ? def : asText(v)
