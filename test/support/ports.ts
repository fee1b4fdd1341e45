/** Free loopback ports below the ephemeral range (32768+), found by binding them. */
import * as net from "node:net"

const tryPort = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

const taken = new Set<number>()

/** A port in [20000, 32000) that is free now and not handed out before by this process. */
export const freePort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000)
    if (taken.has(port)) continue
    if (await tryPort(port)) {
      taken.add(port)
      return port
    }
  }
  throw new Error("no free port found in 20000-32000 after 200 attempts")
}
