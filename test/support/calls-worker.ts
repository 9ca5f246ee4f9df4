// A worker thread for the kit's WorkerCalls tests: each call names what the worker does with it.
import { parentPort } from 'node:worker_threads'
import { answerCalls, ConnectorError } from '../../src/connector-api/index.js'

export type TestCall =
  | { op: 'echo'; value: unknown }
  | { op: 'fail'; connector: boolean }
  | { op: 'hang'; name: string }
  | { op: 'aborted'; name: string }
  | { op: 'batches' }
  | { op: 'exit' }

const port = parentPort!
let batches = 0
port.on('message', (m: { t?: string }) => { if (m.t === 'calls') batches++ })
const abortedHangs = new Set<string>()

answerCalls<TestCall, unknown>(port, async (call, signal) => {
  switch (call.op) {
    case 'echo':
      return call.value
    case 'fail':
      if (call.connector) throw new ConnectorError('INVALID_DATA', 'refused here', { kind: 'permanent', hint: 'a hint' })
      throw Object.assign(new Error('socket trouble'), { code: 'ECONNRESET' })
    case 'hang':
      return new Promise((resolve) => signal.addEventListener('abort', () => {
        abortedHangs.add(call.name)
        resolve('aborted')
      }))
    case 'aborted':
      return abortedHangs.has(call.name)
    case 'batches':
      return batches
    case 'exit':
      process.exit(3)
  }
})
