/** The worker thread of one NATS connector (`workerThread`): its connection and channels, run by the kit's serveConnector. */
import { parentPort, workerData } from 'node:worker_threads'
import { serveConnector, type WorkerConnectorData } from '../../connector-api/index.js'
import type { NatsConfig } from './config-schema.js'
import { NatsConnector } from './nats-connector.js'

if (!parentPort) throw new Error('nats-worker runs in a worker thread only')
serveConnector(parentPort, workerData as WorkerConnectorData, (config, ctx) => new NatsConnector(config as NatsConfig, ctx))
