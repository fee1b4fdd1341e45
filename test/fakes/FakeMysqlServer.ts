/**
 * FAKE — a fake MySQL-protocol server standing in for Oracle MySQL 8.0/8.4, which cannot be installed on
 * these machines; answers are modelled on MySQL's documentation.
 *
 * Built on mysql2's `createServer`, following /work/shared/spec/stack.md (gotcha 11, Appendix A):
 * - the packet sequence id is reset by hand: 0 after the handshake OK, 1 before each reply, 0 after it;
 * - `setNoDelay(true)` and `cork()`/`uncork()` around each reply (else Nagle + delayed ACK add ~40 ms);
 * - text rows via `writeTextRow` after our own column packets, never the buggy `writeTextResult`;
 * - column definition packets are encoded once per result shape and re-sent as copies;
 * - mysql2 routes a COM_QUERY starting with `SET`/`PREPARE` to `stmt_prepare`, so every command is
 *   dispatched from the `packet` event, which carries the real command code;
 * - prepared statements (COM_STMT_PREPARE/EXECUTE/CLOSE) are written by hand (binary rows).
 * Also: multi-statement text queries (one result set per statement, SERVER_MORE_RESULTS_EXISTS between
 * them, stop at the first error), errors with their real SQLSTATE (mysql2's helper writes `#_____`), and
 * `caching_sha2_password` advertised in the 8.x handshake (mysql8.md §9: the default plugin from 8.0.4).
 *
 * Text-protocol answers are cached per server as the exact bytes sent (keyed by the query text; the
 * engine is a pure function of the state, so the cache is cleared whenever `update` replaces the state):
 * a scale benchmark's fleet then costs one Map lookup and one socket write per round trip.
 *
 * What each statement returns is in FakeMysqlEngine.ts. Many ports can be served from one process
 * (`startFleet`); ports must be in 10000..32000 (below the ephemeral range, stack.md gotcha 12).
 */
import { Effect } from "effect"
import { createRequire } from "node:module"
import type * as net from "node:net"
import * as path from "node:path"
import * as mysql from "mysql2"
import * as Engine from "./FakeMysqlEngine.js"
import type { FakeFlavor, FakeInstanceState } from "./FakeMysqlEngine.js"
import { portRangeOf } from "../support/ports.js"

export * from "./FakeMysqlEngine.js"

// ---- the parts of mysql2's (untyped) server API that are used here ---------------------------------------

/** mysql2 `lib/packets/packet.js` (not in the package's exports map). */
interface Packet {
  readonly buffer: Buffer
  readonly start: number
  readonly end: number
  offset: number
  readInt8(): number
  readInt32(): number
  readString(len: undefined, encoding: string): string
}

interface PacketConstructor {
  new(sequenceId: number, buffer: Buffer, start: number, end: number): Packet
}

interface HandshakeInfo {
  readonly user: string
}

interface HandshakeArgs {
  readonly protocolVersion: number
  readonly serverVersion: string
  readonly connectionId: number
  readonly statusFlags: number
  readonly characterSet: number
  readonly capabilityFlags: number
  readonly authCallback: (
    info: HandshakeInfo,
    cb: (err: null, mysqlError?: { readonly message: string; readonly code: number }) => void
  ) => void
}

interface ServerConnection {
  sequenceId: number
  /** mysql2's client-side prepared-statement LRU, allocated for server connections too (~0.5 MB each). */
  _statements: unknown
  readonly stream: net.Socket
  readonly clientHelloReply: { readonly clientFlags: number; readonly encoding: string } | undefined
  serverHandshake(args: HandshakeArgs): void
  writePacket(packet: Packet): void
  /** Writes raw bytes to the socket (what `writePacket` ends in). */
  write(buffer: Buffer): void
  writeTextRow(values: ReadonlyArray<string | number | null>): void
  writeEof(warnings?: number, statusFlags?: number): void
  writeOk(args?: { readonly affectedRows?: number; readonly serverStatus?: number }): void
  on(event: "packet", listener: (packet: Packet, known: boolean, commandCode: number) => void): void
  on(
    event: "stmt_execute",
    listener: (stmtId: number | null, flags: unknown, iterations: unknown, values: unknown) => void
  ): void
  on(event: "error", listener: (err: Error) => void): void
  on(event: "query" | "stmt_prepare" | "ping" | "init_db" | "quit" | "field_list", listener: () => void): void
}

interface Mysql2Server {
  on(event: "connection", listener: (conn: ServerConnection) => void): void
  listen(port: number, host: string, callback: () => void): void
  close(callback: () => void): void
  readonly _server: net.Server
}

const require = createRequire(import.meta.url)
const mysql2Dir = path.dirname(require.resolve("mysql2"))
const PacketClass = require(path.join(mysql2Dir, "lib/packets/packet.js")) as PacketConstructor
// mysql2's own LRU dependency, resolved from mysql2's location (not a dependency of this project).
const { createLRU } = createRequire(require.resolve("mysql2"))("lru.min") as {
  createLRU: (options: { readonly max: number }) => unknown
}

const createMysql2Server = (handler: (conn: ServerConnection) => void): Mysql2Server =>
  mysql.createServer(handler as unknown as Parameters<typeof mysql.createServer>[0]) as unknown as Mysql2Server

// ---- protocol constants -----------------------------------------------------------------------------------

const COM_QUIT = 0x01
const COM_INIT_DB = 0x02
const COM_QUERY = 0x03
const COM_PING = 0x0e
const COM_STMT_PREPARE = 0x16
const COM_STMT_EXECUTE = 0x17
const COM_STMT_CLOSE = 0x19
const COM_STMT_RESET = 0x1a
const COM_RESET_CONNECTION = 0x1f

const SERVER_STATUS_AUTOCOMMIT = 0x0002
const SERVER_MORE_RESULTS_EXISTS = 0x0008
const CLIENT_MULTI_STATEMENTS = 1 << 16

const CHARSET_UTF8 = 33
const CHARSET_BINARY = 63

const typeCode: Record<Engine.ColumnType, number> = { string: 253, longlong: 8, long: 3, null: 6 }

/** `max_prepared_stmt_count` default is 16382 (server-wide); a per-connection cap keeps the fake small. */
const maxStatementsPerConnection = 1024

// ---- packet encoding ----------------------------------------------------------------------------------------

const lenencInt = (n: number): Buffer => {
  if (n < 251) return Buffer.from([n])
  if (n < 0x10000) return Buffer.from([0xfc, n & 0xff, (n >> 8) & 0xff])
  if (n < 0x1000000) return Buffer.from([0xfd, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff])
  const b = Buffer.alloc(9)
  b[0] = 0xfe
  b.writeBigUInt64LE(BigInt(n), 1)
  return b
}

const lenencString = (s: string): Buffer => {
  const body = Buffer.from(s, "utf8")
  return Buffer.concat([lenencInt(body.length), body])
}

/** A packet buffer with 4 bytes reserved for the header that `writePacket` fills in. */
const packetBuffer = (payload: Buffer): Buffer => Buffer.concat([Buffer.alloc(4), payload])

const toPacket = (buffer: Buffer): Packet => new PacketClass(0, buffer, 0, buffer.length)

const columnDefinitionPayload = (c: Engine.Column): Buffer => {
  const numeric = c.type === "longlong" || c.type === "long"
  const fixed = Buffer.alloc(13)
  fixed[0] = 0x0c
  fixed.writeUInt16LE(numeric ? CHARSET_BINARY : CHARSET_UTF8, 1)
  fixed.writeUInt32LE(c.type === "longlong" ? 21 : c.type === "long" ? 11 : 1024, 3)
  fixed[7] = typeCode[c.type]
  fixed.writeUInt16LE(numeric ? 0x0080 /* BINARY */ : 0, 8)
  fixed[10] = 0
  return Buffer.concat([
    lenencString("def"),
    lenencString(""),
    lenencString(""),
    lenencString(""),
    lenencString(c.name),
    lenencString(c.name),
    fixed
  ])
}

/** Encoded column-definition packets per result shape (4x throughput measured in stack.md). */
const columnCache = new Map<string, ReadonlyArray<Buffer>>()

const columnPackets = (columns: ReadonlyArray<Engine.Column>): ReadonlyArray<Buffer> => {
  const key = columns.map((c) => `${c.name}\u0000${c.type}`).join("\u0001")
  let cached = columnCache.get(key)
  if (cached === undefined) {
    cached = columns.map((c) => packetBuffer(columnDefinitionPayload(c)))
    columnCache.set(key, cached)
  }
  return cached
}

const errorPacket = (errno: number, sqlState: string, message: string): Packet => {
  const head = Buffer.alloc(3)
  head[0] = 0xff
  head.writeUInt16LE(errno, 1)
  const body = Buffer.concat([head, Buffer.from(`#${sqlState}`, "ascii"), Buffer.from(message, "utf8")])
  return toPacket(packetBuffer(body))
}

/** Binary-protocol row: 0x00, NULL bitmap with offset 2, then the non-NULL values by column type. */
const binaryRow = (columns: ReadonlyArray<Engine.Column>, row: ReadonlyArray<Engine.Value>): Packet => {
  const bitmap = Buffer.alloc(Math.floor((columns.length + 7 + 2) / 8))
  const parts: Array<Buffer> = [Buffer.from([0x00]), bitmap]
  columns.forEach((c, i) => {
    const v = row[i] ?? null
    if (v === null) {
      const bit = i + 2
      bitmap[bit >> 3]! |= 1 << (bit & 7)
      return
    }
    if (c.type === "longlong") {
      const b = Buffer.alloc(8)
      b.writeBigInt64LE(BigInt(Math.trunc(Number(v))))
      parts.push(b)
    } else if (c.type === "long") {
      const b = Buffer.alloc(4)
      b.writeInt32LE(Math.trunc(Number(v)))
      parts.push(b)
    } else {
      parts.push(lenencString(String(v)))
    }
  })
  return toPacket(packetBuffer(Buffer.concat(parts)))
}

// ---- one server --------------------------------------------------------------------------------------------

export interface FakeServerStats {
  /** COM_QUERY packets received (one per round trip of the text protocol). */
  queries: number
  /** Statements executed (a multi-statement COM_QUERY counts each). */
  statements: number
  /** COM_STMT_EXECUTE packets received. */
  executes: number
  connections: number
}

export interface FakeServer {
  readonly port: number
  readonly flavor: FakeFlavor
  /** The current state (answers are computed from it at each statement). */
  readonly state: FakeInstanceState
  /** Replaces the state (e.g. to stop the IO thread or move the binlog position). */
  update(f: (s: FakeInstanceState) => FakeInstanceState): void
  readonly stats: FakeServerStats
  /** The last statements received (at most 200), for assertions. */
  readonly log: ReadonlyArray<string>
  close(): Promise<void>
}

let nextConnectionId = 1

const handshakeVersion = (s: FakeInstanceState): string =>
  // MariaDB prefixes its version for old clients with the 5.5.5- "replication compatible" marker.
  s.flavor === "mariadb-10.11" ? `5.5.5-${s.version}` : s.version

const nativePlugin = Buffer.from("mysql_native_password\u0000", "latin1")
const sha2Plugin = Buffer.from("caching_sha2_password\u0000", "latin1")

interface PreparedStatement {
  readonly sql: string
  readonly params: number
  readonly columns: ReadonlyArray<Engine.Column>
}

const countParams = (sql: string): number => {
  let n = 0
  let quote: string | undefined
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!
    if (quote !== undefined) {
      if (c === "\\") i++
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === "\"" || c === "`") quote = c
    else if (c === "?") n++
  }
  return n
}

const sqlLiteral = (v: unknown): string =>
  v === null || v === undefined
    ? "NULL"
    : typeof v === "number" || typeof v === "bigint"
    ? String(v)
    : `'${String(v).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`

const bindParams = (sql: string, values: ReadonlyArray<unknown>): string => {
  let i = 0
  let quote: string | undefined
  let out = ""
  for (let k = 0; k < sql.length; k++) {
    const c = sql[k]!
    if (quote !== undefined) {
      out += c
      if (c === "\\" && k + 1 < sql.length) out += sql[++k]
      else if (c === quote) quote = undefined
    } else if (c === "'" || c === "\"" || c === "`") {
      quote = c
      out += c
    } else if (c === "?") out += sqlLiteral(values[i++])
    else out += c
  }
  return out
}

/** The bytes of a cached text-protocol answer and what executing it counted. */
interface CachedAnswer {
  readonly bytes: Buffer
  /** The statements executed (up to and including a failing one). */
  readonly executed: ReadonlyArray<string>
}

/** Answers kept per server; beyond this the cache is cleared (ad-hoc statements in tests). */
const maxCachedAnswers = 256

interface Holder {
  state: FakeInstanceState
  readonly stats: FakeServerStats
  readonly log: Array<string>
  /** Query text → answer, valid for the current `state` only. */
  readonly answers: Map<string, CachedAnswer>
}

const handleConnection = (server: Holder) =>
(conn: ServerConnection): void => {
  server.stats.connections++
  const statements = new Map<number, PreparedStatement>()
  let nextStatementId = 1
  let pendingExecuteValues: ReadonlyArray<unknown> = []
  const flavor = server.state.flavor

  conn.on("error", () => {/* client went away; nothing to clean up beyond the socket */})
  // stack.md: a 16000-slot LRU per connection costs ~0.5 MB; the server side never uses it.
  conn._statements = createLRU({ max: 1 })
  conn.stream.setNoDelay(true)

  // 8.x advertises caching_sha2_password (default since 8.0.4, mysql8.md §7). mysql2's server handshake
  // always names mysql_native_password; both names are 21 bytes, so the first packet is patched in place.
  if (flavor !== "mariadb-10.11") {
    const original = conn.writePacket.bind(conn)
    conn.writePacket = (packet: Packet) => {
      conn.writePacket = original
      const at = packet.buffer.lastIndexOf(nativePlugin)
      if (at > 0 && at + nativePlugin.length === packet.end) sha2Plugin.copy(packet.buffer, at)
      original(packet)
    }
  }

  conn.serverHandshake({
    protocolVersion: 10,
    serverVersion: handshakeVersion(server.state),
    connectionId: nextConnectionId++,
    statusFlags: SERVER_STATUS_AUTOCOMMIT,
    characterSet: CHARSET_UTF8,
    // stack.md Appendix A: everything in the low 24 bits except SSL (0x800) and compression (0x20).
    capabilityFlags: 0xffffff & ~0x800 & ~0x20,
    // Any user/password is accepted: the fake models an account already in the caching_sha2 cache.
    authCallback: (_info, cb) => {
      cb(null)
      conn.sequenceId = 0
    }
  })

  const reply = (f: () => void) => {
    conn.sequenceId = 1
    conn.stream.cork()
    try {
      f()
    } finally {
      conn.sequenceId = 0
      conn.stream.uncork()
    }
  }

  const writeError = (e: { readonly errno: number; readonly sqlState: string; readonly message: string }) =>
    conn.writePacket(errorPacket(e.errno, e.sqlState, e.message))

  const writeColumns = (columns: ReadonlyArray<Engine.Column>) => {
    conn.writePacket(toPacket(packetBuffer(lenencInt(columns.length))))
    for (const buf of columnPackets(columns)) conn.writePacket(toPacket(Buffer.from(buf)))
    conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT)
  }

  const runText = (sql: string) => {
    server.stats.queries++
    const multiAllowed = ((conn.clientHelloReply?.clientFlags ?? 0) & CLIENT_MULTI_STATEMENTS) !== 0
    const cacheKey = multiAllowed ? sql : `\u0000${sql}`
    const cached = server.answers.get(cacheKey)
    if (cached !== undefined) {
      server.stats.statements += cached.executed.length
      for (const stmt of cached.executed) remember(stmt)
      conn.write(cached.bytes)
      return
    }
    // First time for this state: compute the answer, capturing the bytes written.
    const chunks: Array<Buffer> = []
    const executed: Array<string> = []
    conn.write = (buffer: Buffer) => void chunks.push(Buffer.from(buffer))
    try {
      answerText(sql, multiAllowed, executed)
    } catch (e) {
      if (e !== stopBatch) throw e
    } finally {
      // Back to the prototype's method.
      Reflect.deleteProperty(conn, "write")
    }
    const bytes = Buffer.concat(chunks)
    if (server.answers.size >= maxCachedAnswers) server.answers.clear()
    server.answers.set(cacheKey, { bytes, executed })
    conn.write(bytes)
  }

  const answerText = (sql: string, multiAllowed: boolean, executed: Array<string>) => {
    const parts = Engine.splitStatements(sql)
    if (parts.length === 0) return writeError({ errno: 1065, sqlState: "42000", message: "Query was empty" })
    if (parts.length > 1 && !multiAllowed) {
      // Without CLIENT_MULTI_STATEMENTS the server parses one statement and trips on the second.
      return writeError(Engine.parseError(server.state, parts.slice(1).join("; ")))
    }
    parts.forEach((stmt, idx) => {
      server.stats.statements++
      remember(stmt)
      executed.push(stmt)
      const more = idx < parts.length - 1 ? SERVER_MORE_RESULTS_EXISTS : 0
      const result = Engine.execute(server.state, stmt)
      if (result._tag === "Error") {
        writeError(result)
        throw stopBatch
      }
      if (result._tag === "Ok") {
        conn.writeOk({ affectedRows: 0, serverStatus: SERVER_STATUS_AUTOCOMMIT | more })
        return
      }
      writeColumns(result.columns)
      for (const row of result.rows) conn.writeTextRow(row)
      conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT | more)
    })
  }

  const remember = (stmt: string) => {
    server.log.push(stmt)
    if (server.log.length > 200) server.log.splice(0, server.log.length - 200)
  }

  const prepare = (sql: string) => {
    if (Engine.splitStatements(sql).length > 1) return writeError(Engine.parseError(server.state, sql))
    if (statements.size >= maxStatementsPerConnection) {
      return writeError({
        errno: 1461,
        sqlState: "42000",
        message: "Can't create more than max_prepared_stmt_count statements (current value: 16382)"
      })
    }
    const params = countParams(sql)
    // The result shape is known at prepare time (evaluated with NULL parameters).
    const probe = Engine.execute(server.state, bindParams(sql, new Array<unknown>(params).fill(null)))
    if (probe._tag === "Error") return writeError(probe)
    const columns = probe._tag === "Rows" ? probe.columns : []
    const id = nextStatementId++
    statements.set(id, { sql, params, columns })
    const ok = Buffer.alloc(12)
    ok[0] = 0x00
    ok.writeUInt32LE(id, 1)
    ok.writeUInt16LE(columns.length, 5)
    ok.writeUInt16LE(params, 7)
    ok[9] = 0
    ok.writeUInt16LE(0, 10)
    conn.writePacket(toPacket(packetBuffer(ok)))
    if (params > 0) {
      for (let i = 0; i < params; i++) {
        conn.writePacket(toPacket(Buffer.from(columnPackets([{ name: "?", type: "string" }])[0]!)))
      }
      conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT)
    }
    if (columns.length > 0) {
      for (const buf of columnPackets(columns)) conn.writePacket(toPacket(Buffer.from(buf)))
      conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT)
    }
  }

  const executePrepared = (stmtId: number) => {
    server.stats.executes++
    const stmt = statements.get(stmtId)
    if (stmt === undefined) {
      return writeError({
        errno: 1243,
        sqlState: "HY000",
        message: `Unknown prepared statement handler (${stmtId}) given to mysqld_stmt_execute`
      })
    }
    server.stats.statements++
    remember(stmt.sql)
    const result = Engine.execute(server.state, bindParams(stmt.sql, pendingExecuteValues))
    if (result._tag === "Error") return writeError(result)
    if (result._tag === "Ok") return conn.writeOk({ affectedRows: 0, serverStatus: SERVER_STATUS_AUTOCOMMIT })
    writeColumns(result.columns)
    for (const row of result.rows) conn.writePacket(binaryRow(result.columns, row))
    conn.writeEof(0, SERVER_STATUS_AUTOCOMMIT)
  }

  // mysql2 needs a listener per command or it answers on its own; the real work happens in `packet`.
  const noop = () => {}
  conn.on("query", noop)
  conn.on("stmt_prepare", noop)
  conn.on("ping", noop)
  conn.on("init_db", noop)
  conn.on("quit", noop)
  conn.on("field_list", noop)
  // Fires before `packet` for COM_STMT_EXECUTE with the parameter values mysql2 decoded.
  conn.on("stmt_execute", (_id, _flags, _iterations, values) => {
    pendingExecuteValues = Array.isArray(values) ? values : []
  })

  conn.on("packet", (packet, _known, command) => {
    const encoding = conn.clientHelloReply?.encoding ?? "utf8"
    packet.offset = packet.start + 5 // after the 4-byte header and the command byte
    if (command === COM_QUIT) {
      conn.stream.end()
      return
    }
    if (command === COM_STMT_CLOSE) {
      statements.delete(packet.readInt32())
      return // no response to COM_STMT_CLOSE
    }
    reply(() => {
      try {
        switch (command) {
          case COM_QUERY:
            return runText(packet.readString(undefined, encoding))
          case COM_STMT_PREPARE:
            return prepare(packet.readString(undefined, encoding))
          case COM_STMT_EXECUTE:
            return executePrepared(packet.readInt32())
          case COM_PING:
          case COM_INIT_DB:
          case COM_STMT_RESET:
          case COM_RESET_CONNECTION:
            return conn.writeOk({ affectedRows: 0, serverStatus: SERVER_STATUS_AUTOCOMMIT })
          default:
            return writeError({ errno: 1047, sqlState: "08S01", message: "Unknown command" })
        }
      } catch (e) {
        if (e !== stopBatch) throw e
      }
    })
    pendingExecuteValues = []
  })
}

const stopBatch = Symbol("stopBatch")

export const minPort = 10000
export const maxPort = 32000

const listen = (srv: Mysql2Server, port: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e)
    srv._server.once("error", onError)
    srv.listen(port, "127.0.0.1", () => {
      srv._server.off("error", onError)
      resolve()
    })
  })

/** Starts one fake server on 127.0.0.1:`port` with the given state. */
export const startFakeMysql = async (options: {
  readonly port: number
  readonly state: FakeInstanceState
}): Promise<FakeServer> => {
  if (options.port < minPort || options.port > maxPort) {
    throw new Error(`fake MySQL ports must be in ${minPort}..${maxPort}, got ${options.port}`)
  }
  const holder: Holder = {
    state: options.state,
    stats: { queries: 0, statements: 0, executes: 0, connections: 0 },
    log: [],
    answers: new Map()
  }
  const sockets = new Set<net.Socket>()
  const srv = createMysql2Server(handleConnection(holder))
  srv._server.on("connection", (socket: net.Socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
  })
  await listen(srv, options.port)
  return {
    port: options.port,
    flavor: options.state.flavor,
    get state() {
      return holder.state
    },
    update(f) {
      holder.state = f(holder.state)
      holder.answers.clear()
    },
    stats: holder.stats,
    log: holder.log,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        srv.close(() => resolve())
      })
  }
}

export interface FleetOptions {
  readonly count: number
  /** First port; the fleet uses basePort .. basePort+count-1, all within 10000..32000. */
  readonly basePort: number
  /** One flavour for all, or per index (default `mysql-8.4`). */
  readonly flavor?: FakeFlavor | ((index: number) => FakeFlavor)
  /** Customises each instance's state (default: a standalone master, `defaultState`). */
  readonly state?: (index: number, port: number, base: FakeInstanceState) => FakeInstanceState
}

export interface FakeFleet {
  readonly servers: ReadonlyArray<FakeServer>
  byPort(port: number): FakeServer | undefined
  close(): Promise<void>
}

/** Starts `count` fake servers on consecutive ports in one process. */
export const startFleet = async (options: FleetOptions): Promise<FakeFleet> => {
  const last = options.basePort + options.count - 1
  if (options.count < 1 || options.basePort < minPort || last > maxPort) {
    throw new Error(`fleet ports ${options.basePort}..${last} must be within ${minPort}..${maxPort}`)
  }
  const servers: Array<FakeServer> = []
  try {
    for (let i = 0; i < options.count; i++) {
      const port = options.basePort + i
      const flavor = typeof options.flavor === "function" ? options.flavor(i) : options.flavor ?? "mysql-8.4"
      const base = Engine.defaultState(flavor, port)
      servers.push(await startFakeMysql({ port, state: options.state ? options.state(i, port, base) : base }))
    }
  } catch (e) {
    await Promise.all(servers.map((s) => s.close()))
    throw e
  }
  const byPort = new Map(servers.map((s) => [s.port, s]))
  return {
    servers,
    byPort: (port) => byPort.get(port),
    close: async () => {
      await Promise.all(servers.map((s) => s.close()))
    }
  }
}

/**
 * Makes `replica` replicate from `source` (healthy, caught up) and registers it on the source (SHOW
 * REPLICAS and the Binlog Dump thread), like `CHANGE REPLICATION SOURCE TO …; START REPLICA` would.
 */
export const linkReplica = (source: FakeServer, replica: FakeServer): void => {
  replica.update((s) => ({ ...s, readOnly: true, replication: Engine.healthyReplication(source.state, s.port) }))
  source.update((s) => ({
    ...s,
    replicas: [
      ...s.replicas.filter((r) => r.port !== replica.port),
      {
        host: replica.state.reportHost ?? "127.0.0.1",
        port: replica.port,
        serverId: replica.state.serverId,
        uuid: replica.state.serverUuid,
        gtidDump: replica.state.replication?.autoPosition ?? false
      }
    ]
  }))
}

/** A fleet as a scoped resource for @effect/vitest `it.scoped` (closed when the scope ends). */
export const fleetScoped = (options: FleetOptions) =>
  Effect.acquireRelease(Effect.promise(() => startFleet(options)), (fleet) => Effect.promise(() => fleet.close()))

/**
 * A block of `count` consecutive ports for tests that run beside others: a random base in this vitest worker's
 * slice (test/support/ports.ts; the whole 20000..32000 outside vitest or for a block wider than a slice), and
 * `startFleet` fails on a collision (retry with `withFreshPorts`).
 */
export const randomBasePort = (count: number): number => {
  const slice = portRangeOf(process.env.VITEST_POOL_ID)
  const { low, high } = slice.high - slice.low > count ? slice : portRangeOf(undefined)
  return low + Math.floor(Math.random() * (high - low - count))
}

/** Retries `start` on EADDRINUSE with another random base port. */
export const withFreshPorts = async <A>(
  count: number,
  start: (basePort: number) => Promise<A>,
  attempts = 10
): Promise<A> => {
  let lastError: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      return await start(randomBasePort(count))
    } catch (e) {
      lastError = e
      if ((e as { code?: string }).code !== "EADDRINUSE") throw e
    }
  }
  throw lastError
}
