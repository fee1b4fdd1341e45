/**
 * Serves a Web `(Request) => Promise<Response>` handler on node:http: request bodies stream in,
 * response bodies stream out with backpressure, and a client that goes away aborts the forward.
 */
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
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

const toRequest = (req: http.IncomingMessage): Request => {
  const headers: Array<[string, string]> = []
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!])
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`
  const method = req.method ?? "GET"
  const init: RequestInit & { duplex?: "half" } = { method, headers }
  if (method !== "GET" && method !== "HEAD") {
    init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>
    init.duplex = "half"
  }
  return new Request(url, init)
}

/** An empty statusText (Responses made without one) lets Node send the standard reason phrase. */
const writeHead = (res: http.ServerResponse, response: Response, headers: Array<[string, string]>) => {
  if (response.statusText === "") res.writeHead(response.status, headers.flat())
  else res.writeHead(response.status, response.statusText, headers.flat())
}

const writeResponse = async (res: http.ServerResponse, response: Response): Promise<void> => {
  const headers: Array<[string, string]> = []
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") headers.push([name, value])
  })
  for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie])
  // makeNodeFetch's small answers, passed through unchanged by the handler: write the bytes.
  const buffered = response instanceof BufferedResponse ? response.unread() : undefined
  if (buffered !== undefined || response.body === null) {
    // A known length keeps the answer out of chunked encoding: one write for head and body.
    if (buffered !== undefined && !response.headers.has("content-length")) {
      headers.push(["content-length", String(buffered.byteLength)])
    }
    writeHead(res, response, headers)
    res.end(buffered)
    return
  }
  const reader = response.body.getReader()
  try {
    // A small body usually arrives in one chunk: head, body and end then leave in one write.
    const first = await reader.read()
    writeHead(res, response, headers)
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

export const serve = (handler: WebHandler, options: { readonly host?: string | undefined; readonly port: number }): Promise<NodeServer> =>
  new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => {
      const abort = new AbortController()
      res.on("close", () => {
        if (!res.writableFinished) abort.abort()
      })
      let request: Request
      try {
        request = toRequest(req)
      } catch (e) {
        res.writeHead(400, { "Content-Type": "text/plain" }).end(String(e))
        return
      }
      // The client-gone signal travels in `info`, not on the Request (see ConnectionInfo.signal).
      handler(request, { remoteAddress: req.socket.remoteAddress, signal: abort.signal })
        .then((response) => writeResponse(res, response))
        .catch((e: unknown) => {
          if (!res.headersSent) {
            res.writeHead(500, { "Content-Type": "application/json; charset=UTF-8" })
            res.end(JSON.stringify({ Code: "ERROR", Message: `orchestrator-proxy: ${String(e)}`, Details: null }))
          } else res.destroy()
        })
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

/**
 * `fetch` over node:http with keep-alive agents: the same contract as the Web `fetch` the proxy
 * core expects (streaming bodies, AbortSignal), at a fraction of undici's per-request cost.
 * orchestrator-proxy on Node uses it; other runtimes use their native fetch.
 */
export const makeNodeFetch = (options: { readonly maxSockets?: number } = {}): FetchLike => {
  const agents = {
    "http:": new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 }),
    "https:": new https.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 256 })
  }
  return (input, init) =>
    new Promise<Response>((resolve, reject) => {
      const url = new URL(input)
      const isHttps = url.protocol === "https:"
      const method = init?.method ?? "GET"
      const headers: http.OutgoingHttpHeaders = {}
      const h = init?.headers
      const add = (name: string, value: string) => {
        const key = name.toLowerCase()
        const prior = headers[key]
        headers[key] = prior === undefined ? value : `${String(prior)}, ${value}`
      }
      if (Array.isArray(h)) for (const [name, value] of h as Array<[string, string]>) add(name, value)
      else if (h instanceof Headers) h.forEach((value, name) => add(name, value))
      else if (h !== undefined) for (const [name, value] of Object.entries(h)) add(name, value)
      const onResponse = (res: http.IncomingMessage) => {
        // Hop-by-hop headers describe the connection to the node, not the response: a proxy
        // transport drops them here (RFC 9110 §7.6.1).
        const listed = (res.headers.connection ?? "").split(",").map((t) => t.trim().toLowerCase())
        const out: Array<[string, string]> = []
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
          const name = res.rawHeaders[i]!.toLowerCase()
          if (!hopByHopHeaders.has(name) && !listed.includes(name)) out.push([name, res.rawHeaders[i + 1]!])
        }
        const status = res.statusCode ?? 502
        const statusText = res.statusMessage ?? ""
        const bodyless = method === "HEAD" || status === 204 || status === 304
        const length = Number(res.headers["content-length"] ?? Number.NaN)
        const make = (body: ReadableStream<Uint8Array> | null) => {
          try {
            return new Response(body, { status, statusText, headers: out })
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
          res.once("end", onEnd)
          res.once("error", (e) => {
            if (!settled) {
              settled = true
              reject(e)
            }
          })
          if (!(length <= smallBody)) setImmediate(toStream)
        }
      }
      const requestOptions: http.RequestOptions = {
        method,
        headers,
        agent: isHttps ? agents["https:"] : agents["http:"],
        ...(init?.signal ? { signal: init.signal } : {})
      }
      const req = isHttps ? https.request(url, requestOptions, onResponse) : http.request(url, requestOptions, onResponse)
      req.once("error", reject)
      const body = init?.body
      if (body === undefined || body === null) req.end()
      else if (body instanceof ReadableStream) {
        Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>).once("error", (e) => req.destroy(e)).pipe(req)
      } else if (typeof body === "string" || body instanceof Uint8Array) req.end(body)
      else reject(new TypeError("makeNodeFetch: unsupported body type"))
    })
}
