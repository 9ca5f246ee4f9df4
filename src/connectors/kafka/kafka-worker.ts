/**
 * The worker thread of one Kafka connector (`producer.workerThread`): runs its kafkajs clients
 * (producer, and the admin client for health) and answers the connector's requests with success
 * or a serialised error (the kit's answerRequests). See worker-client.ts.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { answerRequests } from '../../connector-api/index.js'
import { InThreadKafkaClient } from './kafka-client.js'
import { unpackRecords, type WorkerInit, type WorkerLog, type WorkerRequest } from './worker-protocol.js'

if (!parentPort) throw new Error('kafka-worker runs in a worker thread only')
const port = parentPort
const { config } = workerData as WorkerInit

const client = new InThreadKafkaClient(config, (level, message, data) => port.postMessage({ t: 'log', level, message, data } satisfies WorkerLog))
/** The connector bounds start by its own signal; here the operations end by kafkajs's timeouts. */
const never = new AbortController().signal

answerRequests<WorkerRequest>(port, (m) => {
  switch (m.op) {
    case 'start':
      return client.start(never)
    case 'write':
      return client.write({ ...m.request, records: unpackRecords(m.request.records) })
    case 'health':
      return client.health(never)
    case 'release':
      return client.release(m.channel)
    case 'topic':
      return client.topic(m.topic, never)
    case 'stop':
      return client.close(never)
  }
})
