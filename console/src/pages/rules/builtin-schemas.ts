import type { JsonSchema } from '../../api/types.ts'

/**
 * Schemas the API validates but does not serve (src/control/rule-service.ts): the `republish`
 * built-in's params and the per-action delivery options. Keep them in step with the server.
 */
export const REPUBLISH_PARAMS_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['topic', 'qos', 'retain', 'payload'],
  properties: {
    topic: { type: 'string', minLength: 1, description: 'Topic template, e.g. `alerts/${clientid}`.' },
    qos: { anyOf: [{ const: 0 }, { const: 1 }, { const: 2 }], default: 0, description: 'QoS of the republished message.' },
    retain: { type: 'boolean', default: false, description: 'Publish as a retained message.' },
    payload: { type: 'string', default: '${payload}', description: 'Payload template; `${.}` is the whole output as JSON, `${payload}` the original payload.' },
  },
}

export const ACTION_OPTIONS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    batchSize: { type: 'integer', minimum: 1, maximum: 10000, description: "Messages per request (default: the connector type's, e.g. 500 for PostgreSQL)." },
    batchTimeMs: { type: 'integer', minimum: 0, maximum: 60000, description: 'How long a message may wait for its batch to fill.' },
    inflightWindow: { type: 'integer', minimum: 1, maximum: 10000, description: 'Requests in flight at once (default 100).' },
    requestTtlMs: { type: 'integer', minimum: 100, maximum: 86400000, description: 'A message not delivered this long after it was queued is dropped as expired (default 45 s).' },
    maxBufferBytes: { type: 'integer', minimum: 1024, maximum: 8 * 1024 ** 3, description: 'Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB).' },
    diskBuffer: { type: 'boolean', description: 'Also keep the queue on disk, so queued messages survive a restart (at-least-once).' },
  },
}
