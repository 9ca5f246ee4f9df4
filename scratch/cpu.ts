import { connect, createInbox } from '@nats-io/transport-node'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
const enc = new TextEncoder()
const N = 40_000, B = 100, W = 4
async function run(label: string, traces: boolean, manual: boolean) {
  const nc = await connect({ servers: ['127.0.0.1:4222'], reconnect: false, noAsyncTraces: !traces })
  const jsm = await jetstreamManager(nc); const js = jetstream(nc)
  const name = `C_${Date.now()}`
  await jsm.streams.add({ name, subjects: [`c.${name}.>`] })
  let pending = new Map<string, () => void>()
  const inbox = createInbox()
  if (manual) nc.subscribe(`${inbox}.>`, { callback: (_e, m) => { const k = m.subject; const f = pending.get(k); pending.delete(k); f?.() } })
  const c0 = process.cpuUsage(); const t0 = performance.now()
  const inflight = new Set<Promise<unknown>>()
  let seq = 0
  for (let off = 0; off < N; off += B) {
    const ps = Array.from({ length: B }, (_, i) => {
      const payload = enc.encode(JSON.stringify({ seq: off + i, temp: 1, clientid: 'dev-1' }))
      if (!manual) return js.publish(`c.${name}.x`, payload, { timeout: 30000 })
      const reply = `${inbox}.${seq++}`
      return new Promise<void>((resolve) => { pending.set(reply, resolve); nc.publish(`c.${name}.x`, payload, { reply }) })
    })
    const p = Promise.all(ps).then(() => { inflight.delete(p) })
    inflight.add(p)
    if (inflight.size >= W) await Promise.race(inflight)
  }
  await Promise.all(inflight)
  const c = process.cpuUsage(c0); const ms = performance.now() - t0
  console.log(label, Math.round(N / (ms / 1000)), 'msg/s', (((c.user + c.system) / N)).toFixed(1), 'µs CPU/msg')
  await jsm.streams.delete(name); await nc.close()
}
for (let i = 0; i < 2; i++) {
  await run('js.publish traces', true, false)
  await run('js.publish noAsyncTraces', false, false)
  await run('manual reply inbox', false, true)
}
