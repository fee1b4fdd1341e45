/**
 * Routes backed by replicated ops, on a single node (the node is its own quorum): each mutation is
 * acknowledged after it is applied, and reads see it.
 */
import Database from "better-sqlite3"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type NodeProcess, startNode } from "../support/nodeProcess.js"

let node: NodeProcess
const api = async (p: string) => {
  const r = await fetch(`${node.url}/api/${p}`)
  const text = await r.text()
  return { status: r.status, body: JSON.parse(text) as unknown }
}
const envelope = async (p: string) => {
  const r = await api(p)
  return { status: r.status, ...(r.body as { Code: string; Message: string; Details: unknown }) }
}

beforeAll(async () => {
  node = await startNode({})
})
afterAll(async () => {
  await node.stop()
})

describe("replicated-op routes on a single node", () => {
  it("begin-downtime with and without a duration, end-downtime", async () => {
    const begun = await envelope("begin-downtime/db1.example/3306/ops/kernel%20upgrade/1h")
    expect(begun).toEqual({ status: 200, Code: "OK", Message: "Downtime begun: db1.example:3306", Details: { Hostname: "db1.example", Port: 3306 } })
    expect((await envelope("begin-downtime/db2.example/3306/ops/patch")).Code).toBe("OK")
    const db = new Database(path.join(node.dir, "backend.sqlite3"), { readonly: true })
    try {
      const rows = db.prepare("SELECT hostname, owner, reason, end_timestamp - begin_timestamp AS len FROM database_instance_downtime ORDER BY hostname").all()
      // 1h as asked; 10 minutes (MaintenanceExpireMinutes) when no duration is given.
      expect(rows).toEqual([
        { hostname: "db1.example", owner: "ops", reason: "kernel upgrade", len: 3_600_000 },
        { hostname: "db2.example", owner: "ops", reason: "patch", len: 600_000 }
      ])
      expect(db.prepare("SELECT applied_index FROM raft_applied").get()).toEqual({ applied_index: 2 })
    } finally {
      db.close()
    }
    expect((await envelope("end-downtime/db1.example/3306")).Message).toBe("Downtime ended: db1.example:3306")
  })

  it("refuses a malformed duration, port or promotion rule with a 400 naming it", async () => {
    const d = await envelope("begin-downtime/db1.example/3306/ops/r/ten")
    expect(d.status).toBe(400)
    expect(d.Message).toContain("duration: Cannot parse simple time: ten")
    const p = await envelope("begin-downtime/db1.example/99999/ops/r")
    expect(p.status).toBe(400)
    expect(p.Message).toContain("port: expected a port number (1-65535), got \"99999\"")
    const r = await envelope("register-candidate/db1.example/3306/must")
    expect(r.status).toBe(400)
    expect(r.Message).toContain("promotionRule: expected one of prefer, neutral, prefer_not, must_not")
  })

  it("maintenance: begin, list, refuse a second, end by key", async () => {
    expect((await envelope("begin-maintenance/db3.example/3306/ops/backup")).Message).toBe("Maintenance begun: db3.example:3306")
    const again = await envelope("begin-maintenance/db3.example/3306/ops/backup")
    expect(again.Code).toBe("ERROR")
    expect(again.Message).toContain("already under maintenance")
    const list = (await api("maintenance")).body as Array<{ MaintenanceId: number; Key: unknown; Owner: string }>
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({ Key: { Hostname: "db3.example", Port: 3306 }, Owner: "ops" })
    expect((await envelope("in-maintenance/db3.example/3306")).Message).toBe("true")
    expect((await envelope(`end-maintenance/${list[0]!.MaintenanceId}`)).Code).toBe("OK")
    expect((await envelope("in-maintenance/db3.example/3306")).Message).toBe("false")
  })

  it("tags: put by path and by query, list, value, tagged, untag", async () => {
    expect((await envelope("tag/db1.example/3306/role/oltp")).Message).toBe("db1.example:3306 tagged with role=oltp")
    expect((await envelope("tag/db2.example/3306?tag=role=olap")).Code).toBe("OK")
    expect((await api("tags/db1.example/3306")).body).toEqual(["role=oltp"])
    expect((await api("tag-value/db2.example/3306/role")).body).toBe("olap")
    expect((await api("tagged?tag=role")).body).toEqual([{ Hostname: "db1.example", Port: 3306 }, { Hostname: "db2.example", Port: 3306 }])
    expect((await envelope("tag-value/db3.example/3306/role")).Message).toBe("tag role not found for db3.example:3306")
    expect((await envelope("untag-all?tag=role")).Message).toBe("role removed from 2 instances")
    expect((await api("tagged?tag=role")).body).toEqual([])
  })

  it("global recoveries switch and acknowledgements", async () => {
    expect((await envelope("check-global-recoveries")).Details).toBe("enabled")
    expect((await envelope("disable-global-recoveries")).Code).toBe("OK")
    expect((await envelope("check-global-recoveries"))).toMatchObject({ Message: "Global recoveries disabled", Details: "disabled" })
    expect((await envelope("enable-global-recoveries")).Code).toBe("OK")
    expect((await envelope("ack-all-recoveries")).Message).toBe("No acknowledge comment given")
    expect((await envelope("ack-all-recoveries?comment=checked")).Code).toBe("OK")
    expect((await envelope("ack-recovery/abc?comment=x")).status).toBe(400)
  })

  it("candidates, pools, cluster alias, hostname unresolve", async () => {
    expect((await envelope("register-candidate/db1.example/3306/prefer"))).toMatchObject({ Message: "Registered candidate" })
    expect((await envelope("submit-pool-instances/reporting?instances=db1.example:3306,db2.example:3306")).Message).toBe(
      "Applied reporting pool instances"
    )
    expect((await envelope("submit-pool-instances/reporting?instances=db1.example")).status).toBe(400)
    expect((await envelope("set-cluster-alias/db1.example:3306?alias=main")).Message).toBe("Cluster db1.example:3306 now has alias 'main'")
    expect((await envelope("register-hostname-unresolve/db1.example/3306/vip1")).Code).toBe("OK")
    expect((await envelope("deregister-hostname-unresolve/db1.example/3306")).Code).toBe("OK")
  })
})
