/**
 * The worker thread of one Kafka connector (`producer.workerThread`): runs its kafkajs clients
 * (producer, and the admin client for health) and answers the connector's requests with success
 * or a serialised error. See worker-client.ts for the protocol.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { InThreadKafkaClient } from './kafka-client.js'
import { errorToWire } from '../../connector-api/index.js'
import { unpackRecords, type WorkerInit, type WorkerMessage, type WorkerRequest } from './worker-protocol.js'

if (!parentPort) throw new Error('kafka-worker runs in a worker thread only')
const port = parentPort
const { config } = workerData as WorkerInit

const post = (m: WorkerMessage) => port.postMessage(m)
const client = new InThreadKafkaClient(config, (level, message, data) => post({ t: 'log', level, message, data }))
/** The connector bounds start by its own signal; here the operations end by kafkajs's timeouts. */
const never = new AbortController().signal

port.on('message', (m: WorkerRequest) => {
  if (m.op === 'release') {
    client.release(m.channel)
    return
  }
  run(m).then(
    () => post({ t: 'reply', id: m.id }),
    (err: unknown) => post({ t: 'reply', id: m.id, error: errorToWire(err) }),
  )
})

function run(m: Exclude<WorkerRequest, { op: 'release' }>): Promise<void> {
  switch (m.op) {
    case 'start':
      return client.start(never)
    case 'write':
      return client.write({ ...m.request, records: unpackRecords(m.request.records) })
    case 'health':
      return client.health(never)
    case 'stop':
      return client.close(never)
  }
}
