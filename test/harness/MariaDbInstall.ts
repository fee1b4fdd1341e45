/**
 * Locating mariadbd, deciding which OS user the servers run as, and the cached "template" datadir that every test
 * instance is copied from (so `mariadb-install-db` runs once per machine and mariadbd version, not once per server).
 */
import { spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { HarnessError } from "./HarnessError.js"

/** Fixed credentials created in the template, hence present on every instance. */
export const Credentials = {
  /** Replication user (`CHANGE MASTER TO MASTER_USER=...`). */
  replication: { user: "repl", password: "repl_pw" },
  /**
   * The orchestrator topology user (MySQLTopologyUser / MySQLTopologyPassword) with the MariaDB 10.11 grant of
   * spec/mariadb.md section 3: the classic orchestrator grant lacks READ_ONLY ADMIN and REPLICATION MASTER ADMIN.
   */
  topology: { user: "orc", password: "orc_pw" },
  /** Everything, for tests that create schemas and tables. */
  admin: { user: "test_admin", password: "test_admin_pw" }
} as const

export type HarnessUser = keyof typeof Credentials

const usersSql = `FLUSH PRIVILEGES;
CREATE USER '${Credentials.replication.user}'@'%' IDENTIFIED BY '${Credentials.replication.password}';
GRANT REPLICATION SLAVE ON *.* TO '${Credentials.replication.user}'@'%';
CREATE USER '${Credentials.topology.user}'@'%' IDENTIFIED BY '${Credentials.topology.password}';
GRANT SUPER, PROCESS, RELOAD, SELECT, REPLICATION SLAVE, BINLOG MONITOR, SLAVE MONITOR, REPLICATION SLAVE ADMIN, \
REPLICATION MASTER ADMIN, READ_ONLY ADMIN, BINLOG ADMIN, CONNECTION ADMIN ON *.* TO '${Credentials.topology.user}'@'%';
CREATE USER '${Credentials.admin.user}'@'%' IDENTIFIED BY '${Credentials.admin.password}';
GRANT ALL PRIVILEGES ON *.* TO '${Credentials.admin.user}'@'%' WITH GRANT OPTION;
`

/**
 * Options that fix the on-disk format, so they must be the same when the template is made and when a copy runs.
 * Small redo log and buffer pool: a copy is ~22 MB and a server starts in ~0.3 s.
 */
export const storageConfig: ReadonlyArray<string> = [
  "innodb_log_file_size=4M",
  "innodb_buffer_pool_size=16M",
  "performance_schema=OFF"
]

export interface Binaries {
  readonly mariadbd: string
  readonly installDb: string
  readonly version: string
  /** util-linux `setpriv`, used to drop to the mysql uid and to set PDEATHSIG (servers die with the test process). */
  readonly setpriv: string | undefined
}

export const notInstalledMessage = "mariadbd not found: install mariadb-server (apt-get install mariadb-server)"

const searchDirs = (): ReadonlyArray<string> => [
  ...(process.env["PATH"] ?? "").split(path.delimiter).filter((d) => d.length > 0),
  "/usr/sbin",
  "/usr/local/sbin",
  "/usr/local/bin",
  "/usr/libexec",
  "/sbin"
]

export const which = (names: ReadonlyArray<string>, dirs = searchDirs()): string | undefined => {
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name)
      try {
        fs.accessSync(candidate, fs.constants.X_OK)
        if (fs.statSync(candidate).isFile()) return candidate
      } catch {
        // not here
      }
    }
  }
  return undefined
}

let binariesCache: Binaries | undefined

/** Finds the server binaries in `dirs` (default: PATH plus the sbin dirs, where Debian puts mariadbd). */
export const locateBinaries = (dirs = searchDirs()): Binaries => {
  const mariadbd = which(["mariadbd", "mysqld"], dirs)
  const installDb = which(["mariadb-install-db", "mysql_install_db"], dirs)
  if (mariadbd === undefined || installDb === undefined) throw new HarnessError({ message: notInstalledMessage })
  const out = spawnSync(mariadbd, ["--version"], { encoding: "utf8" })
  // "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)"
  const version = /Ver\s+(\S+)/.exec(out.stdout ?? "")?.[1]
  if (out.status !== 0 || version === undefined) {
    throw new HarnessError({ message: `${mariadbd} --version failed: ${out.stderr ?? ""}${out.stdout ?? ""}` })
  }
  return { mariadbd, installDb, version, setpriv: which(["setpriv"]) }
}

export const findBinaries = (): Binaries => {
  if (binariesCache === undefined) binariesCache = locateBinaries()
  return binariesCache
}

/**
 * Who the servers run as. As root we use the `mysql` OS user: mariadbd refuses to run as root without `--user=root`,
 * and the `partial` partition (spec section 6) filters on the socket uid, which only works when the servers and the
 * test process have different uids.
 */
export type RunAs =
  | { readonly _tag: "MysqlUser"; readonly uid: number; readonly gid: number }
  | { readonly _tag: "Root"; readonly reason: string }
  | { readonly _tag: "CurrentUser"; readonly uid: number }

const lookupUser = (name: string): { uid: number; gid: number } | undefined => {
  try {
    for (const line of fs.readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":")
      if (f[0] === name && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) }
    }
  } catch {
    // no /etc/passwd
  }
  return undefined
}

export const isRoot = (): boolean => process.getuid?.() === 0

let runAsCache: RunAs | undefined

export const runAs = (): RunAs => {
  if (runAsCache !== undefined) return runAsCache
  if (!isRoot()) {
    runAsCache = { _tag: "CurrentUser", uid: process.getuid?.() ?? -1 }
  } else {
    // ORC_HARNESS_SERVER_USER=root forces the fallback (to exercise it on a machine that has a mysql user).
    const forced = process.env["ORC_HARNESS_SERVER_USER"] === "root"
    const mysql = forced ? undefined : lookupUser("mysql")
    runAsCache = mysql !== undefined
      ? { _tag: "MysqlUser", uid: mysql.uid, gid: mysql.gid }
      : {
        _tag: "Root",
        reason: forced
          ? "ORC_HARNESS_SERVER_USER=root, so the servers run with --user=root"
          : "the `mysql` OS user does not exist, so the servers run with --user=root"
      }
  }
  return runAsCache
}

/** chown -R to the server user, when we are root and the servers are not. */
export const chownForServer = (target: string): void => {
  const who = runAs()
  if (who._tag !== "MysqlUser") return
  const walk = (p: string): void => {
    fs.lchownSync(p, who.uid, who.gid)
    if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e))
  }
  walk(target)
}

/**
 * The command that starts `program args` as the server user with PDEATHSIG=SIGKILL. setpriv applies PDEATHSIG after
 * changing the uid (a uid change clears it, so `mariadbd --user=mysql` alone could not keep it). Without setpriv we
 * fall back to `mariadbd --user=...` and rely on the exit/signal handlers only.
 */
export const serverCommand = (
  program: string,
  args: ReadonlyArray<string>
): { readonly command: string; readonly args: ReadonlyArray<string> } => {
  const { setpriv } = findBinaries()
  const who = runAs()
  if (setpriv !== undefined) {
    const ids = who._tag === "MysqlUser"
      ? [`--reuid=${who.uid}`, `--regid=${who.gid}`, "--clear-groups"]
      : []
    const extra = who._tag === "Root" ? ["--user=root"] : []
    return { command: setpriv, args: [...ids, "--pdeathsig=SIGKILL", "--", program, ...args, ...extra] }
  }
  const extra = who._tag === "MysqlUser" ? ["--user=mysql"] : who._tag === "Root" ? ["--user=root"] : []
  return { command: program, args: [...args, ...extra] }
}

export const run = (command: string, args: ReadonlyArray<string>): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(command, [...args], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (b: Buffer) => (output += b.toString()))
    child.stderr.on("data", (b: Buffer) => (output += b.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })

const templateKey = (b: Binaries, who: RunAs): string => {
  const owner = who._tag === "MysqlUser" ? `mysql${who.uid}` : who._tag === "Root" ? "root" : `uid${who.uid}`
  const hash = createHash("sha256").update(usersSql).update(storageConfig.join("\n")).digest("hex").slice(0, 10)
  return `${b.version.replace(/[^A-Za-z0-9.+-]/g, "_")}-${owner}-${hash}`
}

const readyMarker = "harness-template-ready"

let templatePromise: Promise<string> | undefined

/**
 * Returns the template datadir: system tables plus the three users, and **no binlog/GTID state** (mariadb-install-db
 * bootstraps without log_bin), so copies start with empty gtid_binlog_pos and replicas never see conflicting GTIDs.
 * Cached under os.tmpdir() per mariadbd version, owner and users script; built in a private dir and renamed into
 * place, so parallel test processes do not see a half-made template.
 */
export const templateDatadir = (): Promise<string> => {
  if (templatePromise === undefined) {
    templatePromise = buildTemplate().catch((e: unknown) => {
      templatePromise = undefined
      throw e
    })
  }
  return templatePromise
}

const buildTemplate = async (): Promise<string> => {
  const b = findBinaries()
  const who = runAs()
  const root = path.join(os.tmpdir(), "orchestrator-ts-mariadb-templates")
  fs.mkdirSync(root, { recursive: true })
  // Shared by every user of the machine, like /tmp itself (templates are keyed by owner).
  if (fs.statSync(root).uid === process.getuid?.()) fs.chmodSync(root, 0o1777)
  const final = path.join(root, templateKey(b, who))
  if (fs.existsSync(path.join(final, readyMarker))) return path.join(final, "data")
  if (fs.existsSync(final)) {
    // A template dir without its marker cannot come from a rename (the marker is written before); it is debris.
    fs.rmSync(final, { recursive: true, force: true })
  }
  const work = fs.mkdtempSync(path.join(root, "building-"))
  try {
    fs.chmodSync(work, 0o755)
    const cnf = path.join(work, "my.cnf")
    fs.writeFileSync(cnf, `[mariadbd]\n${storageConfig.join("\n")}\n`, { mode: 0o644 })
    const sql = path.join(work, "users.sql")
    fs.writeFileSync(sql, usersSql, { mode: 0o644 })
    chownForServer(work)
    const args = [
      `--defaults-file=${cnf}`,
      `--datadir=${path.join(work, "data")}`,
      "--skip-test-db",
      "--skip-name-resolve",
      `--extra-file=${sql}`
    ]
    const cmd = who._tag === "MysqlUser" && b.setpriv !== undefined
      ? {
        command: b.setpriv,
        args: [`--reuid=${who.uid}`, `--regid=${who.gid}`, "--clear-groups", b.installDb, ...args]
      }
      : {
        command: b.installDb,
        args: [...args, ...(who._tag === "MysqlUser" ? ["--user=mysql"] : who._tag === "Root" ? ["--user=root"] : [])]
      }
    const res = await run(cmd.command, cmd.args)
    if (res.code !== 0) {
      throw new HarnessError({
        message: `${b.installDb} failed (exit ${res.code}):\n${res.output.split("\n").slice(-30).join("\n")}`
      })
    }
    fs.writeFileSync(path.join(work, readyMarker), `${b.version}\n`)
    try {
      fs.renameSync(work, final)
    } catch (e) {
      // Another process won the race; its template is equivalent.
      if (fs.existsSync(path.join(final, readyMarker))) {
        fs.rmSync(work, { recursive: true, force: true })
      } else {
        throw e
      }
    }
    return path.join(final, "data")
  } catch (e) {
    fs.rmSync(work, { recursive: true, force: true })
    throw e
  }
}
