import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Layer } from "effect"
import { afterAll } from "vitest"
import * as RaftStorage from "../../adapters/raft/RaftStorage.js"
import * as LogStore from "../../core/raft/ports/LogStore.js"
import * as StableStore from "../../core/raft/ports/StableStore.js"
import { logStoreSuite } from "./logStoreSuite.js"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "orc-raftlog-"))
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))
let n = 0

logStoreSuite("memory", () => {
  const log = LogStore.makeMemoryLogDisk()
  const stable = StableStore.makeMemoryStableDisk()
  return { open: () => Layer.merge(LogStore.layerMemory(log), StableStore.layerMemory(stable)) }
})

// Small segments so that rollover, whole-segment compaction and cross-segment reads are exercised.
logStoreSuite("segment files (512-byte segments)", () => {
  const dataDir = path.join(root, `d${++n}`)
  return { open: () => RaftStorage.layer({ dataDir, segmentBytes: 512 }) }
})

logStoreSuite("segment files (default segments)", () => {
  const dataDir = path.join(root, `d${++n}`)
  return { open: () => RaftStorage.layer({ dataDir }) }
})
