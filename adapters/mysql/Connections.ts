/**
 * One reusable mysql2 connection per topology instance, for probes and topology statements.
 *
 * Why mysql2 directly and not @effect/sql-mysql2 (docs/discovery.md "Decisions"): the probe needs one
 * small connection per instance (thousands of them), multi-statement text queries whose result is an
 * array of result sets, a per-query read timeout and a connect timeout that really applies;
 * `MysqlClient.make` opens a pool, connects eagerly with an ineffective timeout and prepares statements
 * by default (spec stack.md gotchas 7-9).
 *
 * Memory per connection is bounded: `maxPreparedStatements` caps mysql2's statement LRU (16 instead of
 * 16,000, ~0.5 MB → a few KB), and connections idle for longer than `idleMs` are closed by `sweep`.
 * A connection is used by one caller at a time; a second concurrent caller gets a throw-away connection.
 */
import * as mysql from "mysql2"

export interface ConnectionOptions {
  readonly user: string
  readonly password: string
  readonly connectTimeoutMs: number
  /** Read timeout of each query (MySQLDiscoveryReadTimeoutSeconds / MySQLTopologyReadTimeoutSeconds). */
  readonly queryTimeoutMs: number
  /** Connections unused for longer than this are closed. */
  readonly idleMs: number
  /**
   * Connection attempts in progress at once (default 32). A start-up round opens thousands of connections;
   * unbounded, their handshakes compete for CPU on both ends and time out. The connect timeout starts when
   * the attempt starts, not while it waits here.
   */
  readonly maxConnecting?: number
  /** TLS to the servers (MySQLTopologyUseMutualTLS); absent = plain TCP. */
  readonly tls?: TlsOptions | undefined
}

/** What mysql2's `ssl` option takes: PEM texts, and whether the server's certificate must verify. */
export interface TlsOptions {
  readonly ca?: string
  readonly cert?: string
  readonly key?: string
  readonly rejectUnauthorized: boolean
}

/** What mysql2 reports on failure (an Error with these fields). */
export interface DriverError {
  readonly message: string
  readonly code?: string
  readonly errno?: number
  readonly sqlState?: string
  readonly fatal?: boolean
}

export const asDriverError = (e: unknown): DriverError =>
  e instanceof Error ? (e as Error & DriverError) : { message: String(e) }

export type QueryResult = ReadonlyArray<Record<string, unknown>> | ReadonlyArray<ReadonlyArray<Record<string, unknown>>>

export interface Lease {
  readonly query: (sql: string, timeoutMs?: number) => Promise<unknown>
  /** Returns the connection for reuse, or destroys it when `broken`. */
  readonly release: (broken: boolean) => void
  /** Destroys the connection at once (interruption). */
  readonly destroy: () => void
  /** Round trips sent on this lease. */
  readonly trips: () => number
  /** The connection was open before this lease (it may have died while idle). */
  readonly reused: boolean
}

interface Slot {
  conn: mysql.Connection | undefined
  busy: boolean
  lastUsed: number
}

const connect = (host: string, port: number, o: ConnectionOptions): Promise<mysql.Connection> =>
  new Promise((resolve, reject) => {
    const conn = mysql.createConnection({
      host,
      port,
      user: o.user,
      password: o.password,
      connectTimeout: o.connectTimeoutMs,
      multipleStatements: true,
      maxPreparedStatements: 16,
      // Large integers as strings rather than lossy doubles (positions and ids can exceed 2^53).
      supportBigNumbers: true,
      bigNumberStrings: false,
      dateStrings: true,
      enableKeepAlive: true,
      ...(o.tls === undefined ? {} : { ssl: { ...o.tls } })
    })
    let settled = false
    conn.once("error", (e) => {
      if (!settled) {
        settled = true
        conn.destroy()
        reject(e)
      }
    })
    conn.connect((e) => {
      if (settled) return
      settled = true
      if (e) {
        conn.destroy()
        reject(e)
      } else {
        // Errors after the handshake (server gone while idle) must not crash the process.
        conn.on("error", () => conn.destroy())
        resolve(conn)
      }
    })
  })

const query = (conn: mysql.Connection, sql: string, timeoutMs: number): Promise<unknown> =>
  new Promise((resolve, reject) => {
    conn.query({ sql, timeout: timeoutMs, rowsAsArray: false }, (e, rows) => (e ? reject(e) : resolve(rows)))
  })

let opened = 0

/** Connection attempts started by every `Connections` of this process (benchmarks: reuse shows as none). */
export const connectionsOpened = (): number => opened

export class Connections {
  private readonly slots = new Map<string, Slot>()
  private connecting = 0
  private readonly waiting: Array<() => void> = []

  constructor(private readonly options: ConnectionOptions) {}

  private async open(host: string, port: number): Promise<mysql.Connection> {
    if (this.connecting >= (this.options.maxConnecting ?? 32)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve))
    } else {
      this.connecting++
    }
    try {
      opened++
      return await connect(host, port, this.options)
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.connecting--
    }
  }

  get size(): number {
    let n = 0
    for (const s of this.slots.values()) if (s.conn !== undefined) n++
    return n
  }

  /** A connection to host:port, reusing the idle one if any. */
  async lease(host: string, port: number): Promise<Lease> {
    const id = `${host}:${port}`
    let slot = this.slots.get(id)
    if (slot === undefined) {
      slot = { conn: undefined, busy: false, lastUsed: Date.now() }
      this.slots.set(id, slot)
    }
    const shared = !slot.busy
    let reused = false
    let conn: mysql.Connection
    if (shared) {
      slot.busy = true
      reused = slot.conn !== undefined
      try {
        conn = slot.conn ?? (await this.open(host, port))
      } catch (e) {
        slot.busy = false
        slot.conn = undefined
        throw e
      }
      if (!reused) {
        // A server that goes away while the connection is idle: the next probe must reconnect.
        const s = slot
        const c = conn
        const clear = () => {
          if (s.conn === c) s.conn = undefined
        }
        conn.once("end", clear)
        conn.once("error", clear)
      }
      slot.conn = conn
    } else {
      conn = await this.open(host, port)
    }
    let trips = 0
    let done = false
    const s = slot
    const finish = (broken: boolean) => {
      if (done) return
      done = true
      if (!shared) {
        conn.destroy()
        return
      }
      s.busy = false
      s.lastUsed = Date.now()
      if (broken) {
        conn.destroy()
        if (s.conn === conn) s.conn = undefined
      }
    }
    return {
      query: (sql, timeoutMs) => {
        trips++
        return query(conn, sql, timeoutMs ?? this.options.queryTimeoutMs)
      },
      release: finish,
      destroy: () => finish(true),
      trips: () => trips,
      reused
    }
  }

  /** Closes the connection of host:port and forgets the slot. */
  drop(id: string): void {
    const slot = this.slots.get(id)
    if (slot === undefined) return
    this.slots.delete(id)
    if (!slot.busy) slot.conn?.destroy()
  }

  /** Closes connections idle for longer than `idleMs`; forgets empty slots. */
  sweep(now = Date.now()): number {
    let closed = 0
    for (const [id, slot] of this.slots) {
      if (slot.busy || now - slot.lastUsed < this.options.idleMs) continue
      if (slot.conn !== undefined) {
        slot.conn.destroy()
        closed++
      }
      this.slots.delete(id)
    }
    return closed
  }

  closeAll(): void {
    for (const slot of this.slots.values()) slot.conn?.destroy()
    this.slots.clear()
  }
}

/** True when the error concerns the connection (it must not be reused), not just one statement. */
export const isConnectionError = (e: DriverError): boolean =>
  e.fatal === true || e.errno === undefined || e.code === "PROTOCOL_SEQUENCE_TIMEOUT"
