/**
 * One mariadbd process on a loopback port, in its own temp dir, with its fault helpers (kill -9, SIGSTOP, restart,
 * nft partitions). Created by `startTopology` (Topology.ts); the pid is always the child we spawned.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as mysql from "mysql2/promise"
import { freePort } from "../support/ports.js"
import * as Cleanup from "./Cleanup.js"
import { HarnessError, toHarnessError } from "./HarnessError.js"
import {
  chownForServer,
  Credentials,
  findBinaries,
  type HarnessUser,
  run,
  serverCommand,
  storageConfig
} from "./MariaDbInstall.js"
import * as Partition from "./Partition.js"

export type { HarnessUser } from "./MariaDbInstall.js"
export type { PartitionMode } from "./Partition.js"

/** How a client reaches the server: TCP on 127.0.0.1:port (subject to nft partitions) or the unix socket (never). */
export type Via = "tcp" | "socket"

export interface ConnectOptions {
  readonly user?: HarnessUser
  readonly via?: Via
  readonly connectTimeoutMs?: number
  readonly database?: string
}

export type Row = Record<string, unknown>

export type InstanceState = "running" | "sigstopped" | "stopped"

export interface RestartOptions {
  /** Default: wait when SHOW SLAVE STATUS has a row after the restart, i.e. the server is configured as a replica. */
  readonly waitForReplication?: boolean
  readonly timeoutMs?: number
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const signal = (pid: number, sig: NodeJS.Signals): void => {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

const toRows = (result: unknown): Array<Row> =>
  Array.isArray(result)
    ? result.filter((r: unknown): r is Row => typeof r === "object" && r !== null && !Array.isArray(r))
    : []

/** "pid starttime" of a process, robust to pid reuse; undefined if it is gone. */
const processIdentity = (pid: number): string | undefined => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    // Fields after the parenthesised command name; starttime is field 22 of the whole line.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return `${pid} ${fields[19]}`
  } catch {
    return undefined
  }
}

const dirPrefix = "orc-mariadb-"
const ownerFile = "owner"
const partitionMarker = "nft-partition"
let swept = false

/** Marks a crashed server in a failed connect's message and in the stderr report at stop. */
const crashMarker = "[mariadbd crashed]"

/**
 * Leaves a record of a crashed server for scripts/test.mjs (ORC_MARIADB_CRASH_DIR): the test file it served, so a
 * failure of that file can be told from a failure of ours (only such a file is re-run). Best effort.
 */
const recordCrash = (key: string, report: string): void => {
  const dir = process.env.ORC_MARIADB_CRASH_DIR
  if (dir === undefined || dir === "") return
  try {
    const testPath = (globalThis as { readonly __vitest_worker__?: { readonly filepath?: string } }).__vitest_worker__?.filepath ?? ""
    fs.writeFileSync(path.join(dir, `${process.pid}-${key.replace(/[^0-9a-z]/gi, "_")}-${Date.now()}.json`), JSON.stringify({ testPath, key, report }))
  } catch {
    // the record only explains a failure; the failure itself is reported anyway
  }
}

/**
 * Removes what a harness process killed with SIGKILL could not clean up: its temp dirs and nft tables (its servers
 * died with it through PDEATHSIG). Only dirs whose owner process is gone and whose server is not running.
 */
const sweepStale = (): void => {
  if (swept) return
  swept = true
  let entries: Array<string> = []
  try {
    entries = fs.readdirSync(os.tmpdir()).filter((e) => e.startsWith(dirPrefix))
  } catch {
    return
  }
  const readText = (file: string): string | undefined => {
    try {
      return fs.readFileSync(file, "utf8").trim()
    } catch {
      return undefined
    }
  }
  for (const entry of entries) {
    const dir = path.join(os.tmpdir(), entry)
    const owner = readText(path.join(dir, ownerFile))
    // No owner file: not made by this harness, or being created right now by another process.
    if (owner === undefined) continue
    if (processIdentity(Number(owner.split(" ")[0])) === owner) continue
    // A server still running there (no PDEATHSIG without setpriv) was not started by us: leave it alone.
    const serverPid = Number(readText(path.join(dir, "mariadbd.pid")) ?? 0)
    if (serverPid > 0 && fs.existsSync(`/proc/${serverPid}`)) continue
    const port = Number(readText(path.join(dir, partitionMarker)) ?? 0)
    if (port > 0) Partition.healQuietly(port)
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

export interface InstanceSpec {
  readonly index: number
  /** Index of this instance's master in the topology at start, null for a master. */
  readonly masterIndex: number | null
  /** read_only=OFF in my.cnf: the master, or the active co-master (which also has a master). */
  readonly writable: boolean
  readonly extraConfig: ReadonlyArray<string>
}

export class MariaDbInstance {
  readonly host = "127.0.0.1"
  readonly index: number
  readonly masterIndex: number | null
  readonly writable: boolean
  readonly dir: string
  readonly datadir: string
  readonly socket: string
  readonly errorLog: string
  readonly configFile: string
  readonly pidFile: string
  private currentPort: number
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private exitInfo: string | undefined
  private stopped = false
  private partitionMode: Partition.PartitionMode | undefined
  private readonly connections = new Set<mysql.Connection>()
  private readonly extraConfig: ReadonlyArray<string>
  private unregister: () => void = () => {}
  private destroyed = false

  private constructor(spec: InstanceSpec, dir: string, port: number) {
    this.index = spec.index
    this.masterIndex = spec.masterIndex
    this.writable = spec.writable
    this.extraConfig = spec.extraConfig
    this.dir = dir
    this.datadir = path.join(dir, "data")
    this.socket = path.join(dir, "mysql.sock")
    this.errorLog = path.join(dir, "error.log")
    this.configFile = path.join(dir, "my.cnf")
    this.pidFile = path.join(dir, "mariadbd.pid")
    this.currentPort = port
  }

  get port(): number {
    return this.currentPort
  }

  /** Orchestrator's instance key. */
  get key(): string {
    return `${this.host}:${this.currentPort}`
  }

  get serverId(): number {
    return this.currentPort
  }

  /** Pid of the running (or SIGSTOPped) server, undefined once it exited. */
  get pid(): number | undefined {
    return this.child !== undefined && this.exitInfo === undefined ? this.child.pid : undefined
  }

  get state(): InstanceState {
    if (this.pid === undefined) return "stopped"
    return this.stopped ? "sigstopped" : "running"
  }

  /** The active nft partition mode, if any. */
  get partitioned(): Partition.PartitionMode | undefined {
    return this.partitionMode
  }

  /**
   * Creates the temp dir, copies the template datadir, writes my.cnf and starts the server; retries on another port
   * if the one picked got taken between the check and mariadbd's bind.
   */
  static async create(spec: InstanceSpec, templateDatadir: string, startTimeoutMs: number): Promise<MariaDbInstance> {
    sweepStale()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), dirPrefix))
    fs.writeFileSync(path.join(dir, ownerFile), `${processIdentity(process.pid) ?? process.pid}\n`)
    const instance = new MariaDbInstance(spec, dir, await freePort())
    instance.unregister = Cleanup.register(() => instance.emergencyCleanup())
    try {
      const cp = await run("cp", ["-a", templateDatadir, instance.datadir])
      if (cp.code !== 0) throw new HarnessError({ message: `cp -a ${templateDatadir} failed: ${cp.output}` })
      chownForServer(dir)
      for (let attempt = 1;; attempt++) {
        instance.writeConfig()
        try {
          await instance.start(startTimeoutMs)
          return instance
        } catch (e) {
          if (attempt >= 5 || !instance.bindFailed()) throw e
          instance.currentPort = await freePort()
          fs.rmSync(instance.errorLog, { force: true })
        }
      }
    } catch (e) {
      await instance.destroy()
      throw e
    }
  }

  private bindFailed(): boolean {
    return /Address already in use|Bind on TCP\/IP port/.test(this.errorLogTail(50))
  }

  private writeConfig(): void {
    const p = this.currentPort
    const lines = [
      "[mariadbd]",
      `datadir=${this.datadir}`,
      `socket=${this.socket}`,
      `pid-file=${this.pidFile}`,
      `log-error=${this.errorLog}`,
      `port=${p}`,
      "bind-address=127.0.0.1",
      "skip-name-resolve",
      // Replication settings of spec/mariadb.md (the setup its timings were measured with).
      `server_id=${p}`,
      "log_bin=mysql-bin",
      "log_bin_index=mysql-bin.index",
      "relay_log=relay-bin",
      "relay_log_index=relay-bin.index",
      "log_slave_updates=ON",
      "binlog_format=ROW",
      "gtid_strict_mode=ON",
      "report_host=127.0.0.1",
      `report_port=${p}`,
      "slave_net_timeout=4",
      `read_only=${this.writable ? "OFF" : "ON"}`,
      ...storageConfig,
      // Test servers: durability is not the point, start/stop speed is.
      "innodb_flush_log_at_trx_commit=2",
      "sync_binlog=0",
      "innodb_buffer_pool_load_at_startup=OFF",
      "innodb_buffer_pool_dump_at_shutdown=OFF",
      // Neither matters for kill -9 of the process (the page cache survives it), only for a machine crash.
      "innodb_doublewrite=OFF",
      "innodb_temp_data_file_path=ibtmp1:1M:autoextend",
      "table_open_cache=400",
      "character-set-server=utf8mb4",
      "collation-server=utf8mb4_general_ci",
      ...this.extraConfig
    ]
    fs.writeFileSync(this.configFile, lines.join("\n") + "\n", { mode: 0o644 })
  }

  /** Starts the server (after kill9/shutdown) and waits until it accepts connections on its socket. */
  async start(timeoutMs = 30_000): Promise<void> {
    if (this.destroyed) throw new HarnessError({ message: `${this.key}: the topology was stopped` })
    if (this.pid !== undefined) throw new HarnessError({ message: `${this.key} is already running (pid ${this.pid})` })
    const { mariadbd } = findBinaries()
    const { command, args } = serverCommand(mariadbd, [`--defaults-file=${this.configFile}`])
    const out = fs.openSync(path.join(this.dir, "stderr.log"), "a")
    let child: ChildProcess
    try {
      // detached: its own process group, so a Ctrl-C in the terminal reaches us (and our cleanup), not the servers.
      child = spawn(command, [...args], { stdio: ["ignore", out, out], detached: true })
    } finally {
      fs.closeSync(out)
    }
    child.unref()
    this.child = child
    this.exitInfo = undefined
    this.stopped = false
    this.exited = new Promise((resolve) => {
      child.once("exit", (code, sig) => {
        this.exitInfo = sig !== null ? `signal ${sig}` : `exit code ${code}`
        resolve()
      })
      child.once("error", (e) => {
        this.exitInfo = `spawn error: ${e.message}`
        resolve()
      })
    })
    await this.waitReady(timeoutMs)
  }

  /**
   * Ready = our own unix socket answers. Not TCP: if another server took the port meanwhile, a TCP probe would reach
   * *that* server; and a restarted instance may be behind an nft partition.
   */
  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last: unknown
    for (;;) {
      if (this.pid === undefined) {
        throw new HarnessError({
          message: `mariadbd for ${this.key} exited during startup (${this.exitInfo ?? "?"})\n` + this.logs()
        })
      }
      try {
        const conn = await mysql.createConnection(this.connectionOptions({ via: "socket", connectTimeoutMs: 1000 }))
        await conn.end()
        return
      } catch (e) {
        last = e
      }
      if (Date.now() > deadline) {
        throw new HarnessError({
          message: `mariadbd for ${this.key} (pid ${this.pid}) not ready after ${timeoutMs} ms: ${String(last)}\n` +
            this.logs(),
          cause: last
        })
      }
      await sleep(20)
    }
  }

  /** Tail of the server's error log (and of its stderr, where setpriv or early startup errors go). */
  errorLogTail(lines = 30): string {
    const tail = (file: string): string => {
      try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n")
      } catch {
        return ""
      }
    }
    const stderr = tail(path.join(this.dir, "stderr.log"))
    return tail(this.errorLog) + (stderr.length > 0 ? `\n--- stderr ---\n${stderr}` : "")
  }

  private logs(): string {
    return `--- ${this.errorLog} (tail) ---\n${this.errorLogTail()}`
  }

  connectionOptions(options: ConnectOptions = {}): mysql.ConnectionOptions {
    const creds = Credentials[options.user ?? "topology"]
    const base: mysql.ConnectionOptions = {
      user: creds.user,
      password: creds.password,
      connectTimeout: options.connectTimeoutMs ?? 2000,
      ...(options.database !== undefined ? { database: options.database } : {})
    }
    return (options.via ?? "tcp") === "socket"
      ? { ...base, socketPath: this.socket }
      : { ...base, host: this.host, port: this.currentPort }
  }

  /** A mysql2/promise connection (TCP as the topology user by default). Closed for you by `stop()` if still open. */
  async connect(options: ConnectOptions = {}): Promise<mysql.Connection> {
    const via = options.via ?? "tcp"
    try {
      const conn = await mysql.createConnection(this.connectionOptions(options))
      this.connections.add(conn)
      return conn
    } catch (e) {
      // The server's own account of why it is not answering: its crash report if it crashed, else its log's tail.
      const crash = this.crashReport()
      const log = crash === undefined ? this.errorLogTail(12) : ""
      const detail = crash !== undefined
        ? `\n${crashMarker} ${this.key}:\n${crash}`
        : log === "" ? "" : `\n--- ${this.errorLog} (tail) ---\n${log}\n---`
      throw toHarnessError(e, `connect to ${this.key} via ${via} (${this.serverState()})${detail}`)
    }
  }

  /**
   * What mariadbd wrote when it crashed ("got signal N" and the backtrace after it), if it did. MariaDB 10.11.19
   * segfaults now and then under these tests (docs/testing.md, "When mariadbd crashes").
   */
  crashReport(): string | undefined {
    let text: string
    try {
      text = fs.readFileSync(this.errorLog, "utf8")
    } catch {
      return undefined
    }
    const at = text.search(/got signal \d+/)
    if (at < 0) return undefined
    return text.slice(text.lastIndexOf("\n", at) + 1).split("\n").slice(0, 60).join("\n")
  }

  /** For error messages: is our server process running, stopped, partitioned? */
  private serverState(): string {
    const pid = this.pid
    const proc = pid === undefined ? `server not running (${this.exitInfo ?? "never started"})` : `server pid ${pid} ${this.state}`
    return this.partitionMode === undefined ? proc : `${proc}, partitioned (${this.partitionMode})`
  }

  /**
   * Runs one statement on a fresh connection (client-side interpolation of `values`: CHANGE MASTER cannot be
   * prepared, spec section 3). Returns the rows, or [] for statements without a result set.
   */
  async query(sql: string, values: ReadonlyArray<unknown> = [], options: ConnectOptions = {}): Promise<Array<Row>> {
    const conn = await this.connect(options)
    try {
      const [result] = await conn.query(sql, [...values])
      return toRows(result)
    } catch (e) {
      throw toHarnessError(e, `${this.key}: ${sql}`)
    } finally {
      this.connections.delete(conn)
      conn.destroy()
    }
  }

  /** How the harness itself talks to the server: TCP, except through the socket while a partition is active. */
  private get adminVia(): Via {
    return this.partitionMode === undefined ? "tcp" : "socket"
  }

  /** SHOW SLAVE STATUS as the topology user; undefined when the server is not a replica. */
  async slaveStatus(via: Via = this.adminVia): Promise<Row | undefined> {
    const rows = await this.query("SHOW SLAVE STATUS", [], { via })
    return rows[0]
  }

  /** Configures this server as a GTID replica of `master` and starts replication (spec sections 4 and 5). */
  async replicateFrom(master: { readonly port: number }): Promise<void> {
    const r = Credentials.replication
    await this.query(
      "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=?, MASTER_USER=?, MASTER_PASSWORD=?, " +
        "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
      [master.port, r.user, r.password],
      { user: "admin", via: this.adminVia }
    )
    await this.query("START SLAVE", [], { user: "admin", via: this.adminVia })
  }

  /** Polls SHOW SLAVE STATUS (over TCP as the topology user) until Slave_IO_Running and Slave_SQL_Running are Yes. */
  async waitForReplication(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    let last: Row | undefined
    let lastError: unknown
    for (;;) {
      try {
        last = await this.slaveStatus()
        lastError = undefined
        if (last !== undefined && last["Slave_IO_Running"] === "Yes" && last["Slave_SQL_Running"] === "Yes") return
      } catch (e) {
        lastError = e
      }
      if (Date.now() > deadline) {
        const status = last === undefined
          ? "SHOW SLAVE STATUS returned no row (not a replica)"
          : ["Master_Port", "Slave_IO_Running", "Slave_SQL_Running", "Last_IO_Errno", "Last_IO_Error", "Last_SQL_Errno",
            "Last_SQL_Error", "Gtid_IO_Pos"].map((c) => `${c}=${String(last?.[c])}`).join(", ")
        throw new HarnessError({
          message: `replication on ${this.key} not running after ${timeoutMs} ms: ${status}` +
            (lastError !== undefined ? ` (last probe error: ${String(lastError)})` : "") + `\n${this.logs()}`,
          cause: lastError
        })
      }
      await sleep(50)
    }
  }

  /** SIGKILL, like a crash; waits until the process is gone. The datadir stays: `start()` brings it back. */
  async kill9(): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    signal(pid, "SIGKILL")
    await this.exited
  }

  /** SIGSTOP: a hung server. TCP connects still complete (kernel backlog), nothing answers. */
  async sigstop(): Promise<void> {
    const pid = this.requirePid("sigstop")
    signal(pid, "SIGSTOP")
    this.stopped = true
  }

  async sigcont(): Promise<void> {
    const pid = this.requirePid("sigcont")
    signal(pid, "SIGCONT")
    this.stopped = false
  }

  private requirePid(op: string): number {
    const pid = this.pid
    if (pid === undefined) throw new HarnessError({ message: `${op}: ${this.key} is not running` })
    return pid
  }

  /** Clean shutdown (SIGTERM, SIGKILL after `timeoutMs`). The datadir stays. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    signal(pid, "SIGTERM")
    // A SIGSTOPped server would never act on the SIGTERM.
    signal(pid, "SIGCONT")
    this.stopped = false
    let timer: NodeJS.Timeout | undefined
    const timedOut = await Promise.race([
      this.exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))
    ])
    clearTimeout(timer)
    if (timedOut) {
      signal(pid, "SIGKILL")
      await this.exited
    }
  }

  /** Clean shutdown then start on the same port and datadir; waits for replication again if it is a replica. */
  async restart(options: RestartOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000
    await this.shutdown()
    await this.start(timeoutMs)
    const wait = options.waitForReplication ?? (await this.slaveStatus()) !== undefined
    if (wait) await this.waitForReplication(timeoutMs)
  }

  /** Cuts the port off with nft (see PartitionMode). Needs root. Replaces an earlier partition of this instance. */
  async partition(mode: Partition.PartitionMode = "drop"): Promise<void> {
    // Marker first: if we die with the table in place, the next harness process removes it (sweepStale).
    fs.writeFileSync(path.join(this.dir, partitionMarker), `${this.currentPort}\n`)
    Partition.apply(this.currentPort, mode)
    this.partitionMode = mode
  }

  /** Removes this instance's nft table. */
  async heal(): Promise<void> {
    if (this.partitionMode === undefined) return
    Partition.heal(this.currentPort)
    this.partitionMode = undefined
    fs.rmSync(path.join(this.dir, partitionMarker), { force: true })
  }

  /** Stops the server, heals its partition, closes connections, removes its temp dir. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    for (const conn of this.connections) conn.destroy()
    this.connections.clear()
    try {
      await this.shutdown()
    } finally {
      const crash = this.crashReport()
      if (crash !== undefined) {
        process.stderr.write(`harness: ${crashMarker} ${this.key} (a MariaDB bug, docs/testing.md):\n${crash}\n`)
        recordCrash(this.key, crash)
      }
      if (this.partitionMode !== undefined) {
        Partition.healQuietly(this.currentPort)
        this.partitionMode = undefined
      }
      fs.rmSync(this.dir, { recursive: true, force: true })
      this.unregister()
    }
  }

  /** Synchronous, for exit/signal handlers: SIGKILL our pid, drop our nft table, remove our dir. */
  private emergencyCleanup(): void {
    const pid = this.pid
    // SIGKILL also ends a SIGSTOPped process.
    if (pid !== undefined && isAlive(pid)) signal(pid, "SIGKILL")
    if (this.partitionMode !== undefined) Partition.healQuietly(this.currentPort)
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}
