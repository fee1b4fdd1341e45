/**
 * Serves a Web `(Request) => Promise<Response>` handler on node:http: request bodies stream in,
 * response bodies stream out with backpressure, and a client that goes away aborts the forward.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo, Socket } from "node:net"
import { Readable } from "node:stream"
import type { ConnectionInfo, FetchLike } from "./Proxy.js"
import { hopByHopHeaders } from "../../core/api/HopByHop.js"

export type WebHandler = (request: Request, info?: ConnectionInfo) => Promise<Response>

export interface NodeServer {
  readonly server: http.Server
  readonly port: number
  readonly host: string
  readonly close: () => Promise<void>
}

/**
 * The Web Request for a Node request: the fewest init fields (no body, no duplex for GET/HEAD;
 * no signal, see `clientGone`), headers as name/value pairs in one pass over rawHeaders (which also
 * yields Host without building `req.headers`).
 */
const toRequest = (req: http.IncomingMessage): Request => {
  const raw = req.rawHeaders
  let host: string | undefined
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    // Like `req.headers.host`: the first Host header.
    if (name.length === 4 && name.toLowerCase() === "host") {
      host = raw[i + 1]!
      break
    }
  }
  const url = `http://${host ?? "localhost"}${req.url ?? "/"}`
  const method = req.method ?? "GET"
  let request: Request
  if (method === "GET") request = new Request(url)
  else if (method === "HEAD") request = new Request(url, { method })
  else {
    const init: RequestInit & { duplex: "half" } = { method, body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: "half" }
    request = new Request(url, init)
  }
  // Appended one by one: the same validation and combining as a `headers` init, without its
  // conversion of a sequence of pairs.
  const headers = request.headers
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  return request
}

/**
 * Aborted when a client connection closes. One per connection, made at its first request: with
 * keep-alive that is one AbortController per client instead of one per request. A request still in
 * flight when its connection closes is exactly a request whose client went away; a finished one has
 * no listener left on the signal.
 */
const clientGone = new WeakMap<Socket, AbortSignal>()
const connectionSignal = (socket: Socket): AbortSignal => {
  let signal = clientGone.get(socket)
  if (signal === undefined) {
    const controller = new AbortController()
    if (socket.destroyed) controller.abort()
    else socket.once("close", () => controller.abort())
    signal = controller.signal
    clientGone.set(socket, signal)
  }
  return signal
}

/** An empty statusText (Responses made without one) lets Node send the standard reason phrase. */
const writeHead = (res: http.ServerResponse, response: Response, head: Array<string>) => {
  if (response.statusText === "") res.writeHead(response.status, head)
  else res.writeHead(response.status, response.statusText, head)
}

/**
 * Writes a Response: the head at once from a flat name/value array, then the body. Synchronous for
 * answers whose bytes are already known (returns undefined); a promise while a body streams.
 */
const writeResponse = (res: http.ServerResponse, response: Response): Promise<void> | undefined => {
  const head: Array<string> = []
  let cookies = false
  let hasLength = false
  response.headers.forEach((value, name) => {
    if (name === "set-cookie") cookies = true
    else {
      if (name === "content-length") hasLength = true
      head.push(name, value)
    }
  })
  // One header line per cookie (a comma-joined Set-Cookie would be a different cookie).
  if (cookies) for (const cookie of response.headers.getSetCookie()) head.push("set-cookie", cookie)
  // makeNodeFetch's small answers, passed through unchanged by the handler: write the bytes.
  const buffered = response instanceof BufferedResponse ? response.unread() : undefined
  if (buffered !== undefined || response.body === null) {
    // A known length keeps the answer out of chunked encoding: one write for head and body.
    if (buffered !== undefined && !hasLength) head.push("content-length", String(buffered.byteLength))
    writeHead(res, response, head)
    res.end(buffered)
    return undefined
  }
  return writeStream(res, response, response.body, head)
}

const writeStream = async (
  res: http.ServerResponse,
  response: Response,
  body: ReadableStream<Uint8Array>,
  head: Array<string>
): Promise<void> => {
  const reader = body.getReader()
  try {
    // A small body usually arrives in one chunk: head, body and end then leave in one write.
    const first = await reader.read()
    writeHead(res, response, head)
    if (first.done) {
      res.end()
      return
    }
    const length = Number(response.headers.get("content-length") ?? Number.NaN)
    if (first.value.byteLength === length) {
      res.end(first.value)
      return
    }
    let pending: Uint8Array | undefined = first.value
    for (;;) {
      let value: Uint8Array
      if (pending !== undefined) {
        value = pending
        pending = undefined
      } else {
        const r = await reader.read()
        if (r.done) break
        value = r.value
      }
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const onDone = () => {
            res.off("drain", onDone)
            res.off("close", onDone)
            resolve()
          }
          res.on("drain", onDone)
          res.on("close", onDone)
        })
        if (res.destroyed) {
          // The client went away: stop reading, which releases the upstream connection too.
          await reader.cancel().catch(() => undefined)
          return
        }
      }
    }
    res.end()
  } catch {
    res.destroy()
    await reader.cancel().catch(() => undefined)
  } finally {
    reader.releaseLock()
  }
}

/** The handler failed (or the Response could not be written): a 500 envelope if nothing was sent yet. */
const failed = (res: http.ServerResponse, e: unknown) => {
  if (!res.headersSent) {
    res.writeHead(500, { "Content-Type": "application/json; charset=UTF-8" })
    res.end(JSON.stringify({ Code: "ERROR", Message: `orchestrator-proxy: ${String(e)}`, Details: null }))
  } else res.destroy()
}

export const serve = (handler: WebHandler, options: { readonly host?: string | undefined; readonly port: number }): Promise<NodeServer> =>
  new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      let request: Request
      try {
        request = toRequest(req)
      } catch (e) {
        res.writeHead(400, { "Content-Type": "text/plain" }).end(String(e))
        return
      }
      const socket = req.socket
      // The client-gone signal travels in `info`, not on the Request (see ConnectionInfo.signal).
      handler(request, { remoteAddress: socket.remoteAddress, signal: connectionSignal(socket) }).then(
        (response) => {
          try {
            writeResponse(res, response)?.catch((e: unknown) => failed(res, e))
          } catch (e) {
            failed(res, e)
          }
        },
        (e: unknown) => failed(res, e)
      )
    })
    server.keepAliveTimeout = 65_000
    server.once("error", reject)
    server.listen(options.port, options.host, () => {
      server.off("error", reject)
      const address = server.address() as AddressInfo
      resolve({
        server,
        port: address.port,
        host: address.address,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })

/** Bodies of at most this many bytes (by Content-Length) are read whole by `makeNodeFetch`. */
const smallBody = 64 * 1024

/**
 * A Response over bytes already read, whose Web stream is only built if someone asks for `body`.
 * Node's Response constructor costs ~10x more with a body than without (it wraps every body in a
 * byte ReadableStream up front) — on the proxy's hot path that was most of the per-request CPU.
 * Everything a consumer can do with a Response works; `serve` writes the bytes directly.
 */
class BufferedResponse extends Response {
  readonly #bytes: Uint8Array<ArrayBuffer>
  #used = false
  #stream: ReadableStream<Uint8Array> | undefined
  constructor(bytes: Uint8Array<ArrayBuffer>, init: ResponseInit) {
    super(null, init)
    this.#bytes = bytes
  }
  override get body(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.#stream === undefined) {
      const bytes = this.#bytes
      this.#stream = new ReadableStream<Uint8Array>({
        start: (controller) => {
          this.#used = true
          if (bytes.byteLength > 0) controller.enqueue(bytes)
          controller.close()
        }
      })
    }
    return this.#stream as ReadableStream<Uint8Array<ArrayBuffer>>
  }
  override get bodyUsed(): boolean {
    return this.#used
  }
  #take(): Uint8Array<ArrayBuffer> {
    if (this.#used) throw new TypeError("Body is unusable: Body has already been read")
    this.#used = true
    return this.#bytes
  }
  override async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take()
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)
  }
  override async text(): Promise<string> {
    return new TextDecoder().decode(this.#take())
  }
  override async json(): Promise<unknown> {
    return JSON.parse(await this.text())
  }
  override async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get("content-type") ?? "" })
  }
  override async formData(): Promise<FormData> {
    return new Response(this.#take(), { headers: this.headers }).formData()
  }
  override clone(): Response {
    if (this.#used) throw new TypeError("Response.clone: Body has already been consumed.")
    return new BufferedResponse(this.#bytes, { status: this.status, statusText: this.statusText, headers: this.headers })
  }
  /** The bytes, for `serve`, if nobody consumed them. */
  unread(): Uint8Array | undefined {
    return this.#used ? undefined : this.#bytes
  }
}


/** A Web stream over a Node readable, with backpressure (pause above the queue's high-water mark). */
const toWebStream = (res: http.IncomingMessage, already: ReadonlyArray<Buffer> = []): ReadableStream<Uint8Array> =>
  new ReadableStream<Uint8Array>(
    {
      start(controller) {
        for (const c of already) controller.enqueue(new Uint8Array(c.buffer, c.byteOffset, c.byteLength))
        if (res.readableEnded) {
          controller.close()
          return
        }
        res.on("data", (chunk: Buffer) => {
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 0) <= 0) res.pause()
        })
        res.once("end", () => controller.close())
        res.once("error", (e) => controller.error(e))
      },
      pull() {
        res.resume()
      },
      cancel() {
        res.destroy()
      }
    },
    { highWaterMark: 16 }
  )

/** Like Node's own (what `http.request`'s `signal` option rejects with): an AbortError whose cause is the reason. */
const abortError = (reason: unknown): Error => {
  const e = new Error("The operation was aborted", { cause: reason })
  e.name = "AbortError"
  return e
}

/** Appends a request header to a flat name/value array, joining a repeated name with ", " as fetch does. */
const addHeader = (out: Array<string>, name: string, value: string) => {
  const key = name.toLowerCase()
  for (let i = 0; i < out.length; i += 2) {
    if (out[i] === key) {
      out[i + 1] = `${out[i + 1]!}, ${value}`
      return
    }
  }
  out.push(key, value)
}

/**
 * `fetch` over node:http with keep-alive agents: the same contract as the Web `fetch` the proxy
 * core expects (streaming bodies, AbortSignal), at a fraction of undici's per-request cost.
 * orchestrator-proxy on Node uses it; other runtimes use their native fetch.
 */
export const makeNodeFetch = (options: { readonly maxSockets?: number } = {}): FetchLike => {
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 })
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 })
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input)
      const isHttps = url.protocol === "https:"
      if (!isHttps && url.protocol !== "http:") throw new TypeError(`makeNodeFetch: unsupported protocol ${url.protocol}`)
      const method = init?.method ?? "GET"
      const signal = init?.signal ?? undefined
      if (signal?.aborted) throw abortError(signal.reason)
      // The head as a flat array: node:http writes it as given (no per-header setHeader), so Host is
      // ours to add, as Node would (url.host omits a default port and brackets an IPv6 address).
      const head: Array<string> = []
      const h = init?.headers
      if (Array.isArray(h)) for (const [name, value] of h as Array<[string, string]>) addHeader(head, name, value)
      else if (h instanceof Headers) h.forEach((value, name) => addHeader(head, name, value))
      else if (h !== undefined) for (const [name, value] of Object.entries(h)) addHeader(head, name, value)
      let hasHost = false
      let hasLength = false
      let hasAuthorization = false
      for (let i = 0; i < head.length; i += 2) {
        const name = head[i]
        if (name === "host") hasHost = true
        else if (name === "content-length") hasLength = true
        else if (name === "authorization") hasAuthorization = true
      }
      if (!hasHost) head.push("host", url.host)
      if (!hasAuthorization && (url.username !== "" || url.password !== "")) {
        const auth = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`
        head.push("authorization", `Basic ${Buffer.from(auth).toString("base64")}`)
      }
      const body = init?.body
      // The header is stored when the request is made: a body whose length is known says so now
      // (node:http would otherwise send it chunked).
      let bytes: string | Uint8Array | undefined
      if (typeof body === "string" || body instanceof Uint8Array) {
        bytes = body
        if (!hasLength) head.push("content-length", String(Buffer.byteLength(bytes)))
      } else if (body !== undefined && body !== null && !(body instanceof ReadableStream)) {
        throw new TypeError("makeNodeFetch: unsupported body type")
      }
      const onResponse = (res: http.IncomingMessage) => {
        // Hop-by-hop headers describe the connection to the node, not the response: a proxy
        // transport drops them here (RFC 9110 §7.6.1), and so the headers Connection lists.
        const raw = res.rawHeaders
        let out: Array<[string, string]> = []
        let connection: string | undefined
        let lengthText: string | undefined
        for (let i = 0; i + 1 < raw.length; i += 2) {
          const name = raw[i]!.toLowerCase()
          const value = raw[i + 1]!
          if (hopByHopHeaders.has(name)) {
            if (name === "connection") connection = connection === undefined ? value : `${connection}, ${value}`
            continue
          }
          if (name === "content-length" && lengthText === undefined) lengthText = value
          out.push([name, value])
        }
        // Usually `keep-alive` (or `close`): no header named, nothing to split.
        if (connection !== undefined && connection !== "keep-alive" && connection !== "close") {
          const listed = connection.split(",").map((t) => t.trim().toLowerCase())
          if (listed.some((t) => t !== "keep-alive" && t !== "")) out = out.filter(([name]) => !listed.includes(name))
        }
        const status = res.statusCode ?? 502
        const statusText = res.statusMessage ?? ""
        const bodyless = method === "HEAD" || status === 204 || status === 304
        const length = Number(lengthText ?? Number.NaN)
        const make = (stream: ReadableStream<Uint8Array> | null) => {
          try {
            return new Response(stream, { status, statusText, headers: out })
          } catch (e) {
            res.destroy()
            reject(e)
            return undefined
          }
        }
        if (bodyless) {
          res.resume()
          const r = make(null)
          if (r !== undefined) resolve(r)
        } else {
          // Most API answers are small and arrive at once: read them whole (no web-stream
          // machinery), and let `serve` write the bytes directly. A body still arriving after
          // this I/O turn, or larger than `smallBody`, streams instead.
          const chunks: Array<Buffer> = []
          let size = 0
          let settled = false
          const onData = (c: Buffer) => {
            chunks.push(c)
            size += c.length
            if (size > smallBody) toStream()
          }
          const onEnd = () => {
            if (settled) return
            settled = true
            res.off("data", onData)
            const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
            const bytes = new Uint8Array(whole.buffer as ArrayBuffer, whole.byteOffset, whole.byteLength)
            try {
              resolve(new BufferedResponse(bytes, { status, statusText, headers: out }))
            } catch (e) {
              reject(e)
            }
          }
          const toStream = () => {
            if (settled) return
            settled = true
            res.pause()
            res.off("data", onData)
            res.off("end", onEnd)
            const r = make(toWebStream(res, chunks))
            if (r !== undefined) resolve(r)
          }
          res.on("data", onData)
          res.on("end", onEnd)
          res.on("error", (e) => {
            if (!settled) {
              settled = true
              reject(e)
            }
          })
          if (!(length <= smallBody)) setImmediate(toStream)
        }
      }
      const requestOptions: http.RequestOptions = {
        // node:http wants an IPv6 address without its URL brackets.
        hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method,
        headers: head,
        agent: isHttps ? httpsAgent : httpAgent
      }
      const req = isHttps ? https.request(requestOptions, onResponse) : http.request(requestOptions, onResponse)
      req.on("error", reject)
      if (signal !== undefined) {
        // What the `signal` option does, without its stream bookkeeping: abort destroys the request
        // (and the response being read); the listener goes when the request closes.
        const onAbort = () => req.destroy(abortError(signal.reason))
        signal.addEventListener("abort", onAbort)
        req.on("close", () => signal.removeEventListener("abort", onAbort))
      }
      if (bytes !== undefined) req.end(bytes)
      else if (body instanceof ReadableStream) {
        Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>).once("error", (e) => req.destroy(e)).pipe(req)
      } else req.end()
    })
}
