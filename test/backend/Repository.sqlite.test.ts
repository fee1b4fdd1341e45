import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { layerSqlite } from "../../adapters/backend/Backend.js"
import { repositorySuite } from "./repositorySuite.js"

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orc-repo-"))
let n = 0
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

// A fresh SQLite file per test: the real backend, on disk, as a node runs it.
repositorySuite("SQLite file", () => layerSqlite({ filename: path.join(dir, `backend-${++n}.db`) }))
