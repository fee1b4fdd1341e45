/**
 * What the probe needs to know about a server's version to choose its statements.
 *
 * Flavour rules are orchestrator's (`go/inst/instance.go`): MariaDB when `@@version` contains "MariaDB",
 * Percona when `@@version_comment` contains "Percona", MaxScale when `@@version` contains "maxscale",
 * otherwise Oracle MySQL. Percona Server speaks Oracle MySQL's replication SQL, so both share one
 * statement family ("mysql").
 *
 * The statement gates are in /work/shared/spec/mysql8.md §0 (MySQL manuals cited there):
 * `SHOW REPLICA STATUS` / `SHOW REPLICAS` from 8.0.22, `*replica*` variable names from 8.0.26,
 * `SHOW BINARY LOG STATUS` from 8.2.0, and on 8.4 the old `SLAVE`/`MASTER` statements are syntax errors.
 */

export type Flavor = "MySQL" | "MariaDB" | "Percona" | "MaxScale" | "unknown"

/** The SQL dialect family for replication statements. */
export type Family = "mysql" | "mariadb"

export interface ServerVersion {
  /** `@@version` as the server gave it, e.g. `8.4.3`, `10.11.19-MariaDB-0+deb12u1-log`. */
  readonly text: string
  readonly major: number
  readonly minor: number
  readonly patch: number
  readonly flavor: Flavor
  readonly family: Family
}

const numbersRe = /^(\d+)\.(\d+)(?:\.(\d+))?/

/**
 * Orchestrator's `applyFlavorName` order: Oracle MySQL first (= none of the others), then MariaDB,
 * Percona, MaxScale.
 */
export const flavorOf = (version: string, versionComment: string): Flavor => {
  const mariadb = version.includes("MariaDB")
  const percona = versionComment.includes("Percona")
  const maxscale = version.includes("maxscale")
  if (!mariadb && !percona && !maxscale) return "MySQL"
  if (mariadb) return "MariaDB"
  if (percona) return "Percona"
  return "MaxScale"
}

/**
 * Parses `@@version`. MariaDB's handshake form `5.5.5-10.11.19-MariaDB` (the replication-compatible prefix
 * MariaDB sends to old clients) is understood too. Unparseable numbers give 0.0.0.
 */
export const parse = (version: string, versionComment = ""): ServerVersion => {
  const flavor = flavorOf(version, versionComment)
  let text = version
  if (flavor === "MariaDB" && text.startsWith("5.5.5-")) text = text.slice("5.5.5-".length)
  const m = numbersRe.exec(text)
  const major = m ? Number(m[1]) : 0
  const minor = m ? Number(m[2]) : 0
  const patch = m && m[3] !== undefined ? Number(m[3]) : 0
  return { text: version, major, minor, patch, flavor, family: flavor === "MariaDB" ? "mariadb" : "mysql" }
}

/** `v >= major.minor.patch`. */
export const atLeast = (v: ServerVersion, major: number, minor: number, patch = 0): boolean =>
  v.major !== major ? v.major > major : v.minor !== minor ? v.minor > minor : v.patch >= patch

/** Orchestrator's `MajorVersionString()`, e.g. `8.0`, `10.11`. */
export const majorVersionString = (v: ServerVersion): string => `${v.major}.${v.minor}`

// ---- statement gates (MySQL family only; MariaDB keeps the SLAVE/MASTER statements) --------------------

/** `SHOW REPLICA STATUS`, `SHOW REPLICAS`, `START/STOP REPLICA` exist from 8.0.22 (mysql8.md §0). */
export const hasReplicaStatements = (v: ServerVersion): boolean => v.family === "mysql" && atLeast(v, 8, 0, 22)

/** `log_replica_updates`, `replica_*` variable names from 8.0.26 (mysql8.md §3.1). */
export const hasReplicaVariableNames = (v: ServerVersion): boolean => v.family === "mysql" && atLeast(v, 8, 0, 26)

/** `SHOW BINARY LOG STATUS` from 8.2.0; `SHOW MASTER STATUS` is gone in 8.4 (mysql8.md §2.1). */
export const hasBinaryLogStatus = (v: ServerVersion): boolean => v.family === "mysql" && atLeast(v, 8, 2, 0)

/** 8.4 rejects every `SLAVE`/`MASTER` statement with ER_PARSE_ERROR (mysql8.md §0, §5.3). */
export const rejectsSlaveMasterSyntax = (v: ServerVersion): boolean => v.family === "mysql" && atLeast(v, 8, 4, 0)

/**
 * `master_info_repository` is read as orchestrator does below 8.0.23; it is deprecated from 8.0.23
 * (TABLE has been the default since 8.0.2) and Percona's fork replaces it by the constant 1 on 8.4
 * (mysql8.md §3.3). Reading the constant from 8.0.23 avoids the deprecation warning and the unknown
 * variable error once the variable is removed.
 */
export const readsMasterInfoRepository = (v: ServerVersion): boolean => v.family === "mysql" && !atLeast(v, 8, 0, 23)

/** `super_read_only` was added in 5.7.8 (mysql8.md §3.3). */
export const hasSuperReadOnly = (v: ServerVersion): boolean => v.family === "mysql" && atLeast(v, 5, 7, 8)

/** `gtid_mode`, `server_uuid`, `gtid_executed` exist on Oracle MySQL/Percona >= 5.6 (orchestrator's gate). */
export const hasOracleGtid = (v: ServerVersion): boolean => v.family === "mysql" && atLeast(v, 5, 6, 0)

/** Orchestrator reads group replication members on Oracle MySQL >= 8.0 only (not Percona, not MariaDB). */
export const readsGroupReplication = (v: ServerVersion): boolean => v.flavor === "MySQL" && atLeast(v, 8, 0, 0)
