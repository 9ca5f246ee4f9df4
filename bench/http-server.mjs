#!/usr/bin/env node
// The HTTP server of bench/http.ts, in its own process so that it does not share an event loop
// with what the benchmark measures. Answers every POST 200 and counts per path the requests and
// the distinct `seq` values of their JSON bodies; `GET /stats?path=<path>` answers
// {"requests": n, "distinct": d}. Prints its port.
import { createServer } from 'node:http'

const byPath = new Map()
const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url.startsWith('/stats')) {
    const s = byPath.get(new URL(req.url, 'http://x').searchParams.get('path')) ?? { requests: 0, seqs: new Set() }
    res.end(JSON.stringify({ requests: s.requests, distinct: s.seqs.size }))
    return
  }
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (c) => { body += c })
  req.on('end', () => {
    if (req.method !== 'POST') return res.end()
    let s = byPath.get(req.url)
    if (!s) byPath.set(req.url, (s = { requests: 0, seqs: new Set() }))
    s.requests++
    s.seqs.add(JSON.parse(body).seq)
    res.end()
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
