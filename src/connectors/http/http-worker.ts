/**
 * The worker thread of one HTTP connector (`workerThread`): its pool of connections, sending the
 * requests its channels render on the main thread (the kit's answerCalls).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { answerCalls, performRequest, type HttpAnswer, type HttpRequest } from '../../connector-api/index.js'
import type { HttpConfig } from './config-schema.js'
import { openPool, secretsOf } from './http-request.js'

if (!parentPort) throw new Error('http-worker runs in a worker thread only')
const config = (workerData as { config: HttpConfig }).config
const pool = openPool(config)
const secrets = secretsOf(config)

answerCalls<HttpRequest, HttpAnswer>(parentPort, (request, signal) => performRequest(pool, request, signal, secrets))
