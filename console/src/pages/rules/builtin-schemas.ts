import type { JsonSchema } from '../../lib/schema.ts'

/**
 * Schemas the API validates but does not serve: the `republish` built-in's params
 * (src/runtime/republish.ts) and the per-action delivery options (src/control/rule-service.ts).
 * Keep them in step with the server.
 */
export const REPUBLISH_PARAMS_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['topic', 'qos', 'retain', 'payload'],
  properties: {
    topic: { type: 'string', minLength: 1, description: 'Topic template, e.g. `alerts/${clientid}`.' },
    qos: { anyOf: [{ const: 0 }, { const: 1 }, { const: 2 }], default: 0, description: 'QoS of the republished message.' },
    retain: { type: 'boolean', default: false, description: 'Publish as a retained message.' },
    payload: { type: 'string', default: '${payload}', description: 'Payload template; `${.}` is the whole output as JSON, `${payload}` the original payload.' },
    mqtt_properties: {
      type: 'object',
      default: {},
      description: 'MQTT 5 PUBLISH properties of each message, as EMQX names them; each value is a template. A placeholder with no value leaves the property out.',
      properties: {
        'Payload-Format-Indicator': { type: 'string', minLength: 1, maxLength: 65535, pattern: '^(?:[01]|.*\\$\\{.*\\}.*)$', description: '0 (bytes) or 1 (UTF-8 text), or a template that renders to one.' },
        'Message-Expiry-Interval': { type: 'string', minLength: 1, maxLength: 65535, pattern: '^(?:[0-9]{1,10}|.*\\$\\{.*\\}.*)$', description: 'Seconds the broker keeps the message for subscribers that have not received it yet, or a template.' },
        'Content-Type': { type: 'string', minLength: 1, maxLength: 65535, description: 'MIME type of the payload, e.g. `application/json`; a template.' },
        'Response-Topic': { type: 'string', minLength: 1, maxLength: 65535, pattern: '^(?:[^+#]*|.*\\$\\{.*\\}.*)$', description: 'Topic a receiver should answer to, e.g. `replies/${clientid}`; a template.' },
        'Correlation-Data': { type: 'string', minLength: 1, maxLength: 65535, description: 'Data a requester uses to match the answer to its request; a template.' },
      },
    },
    user_properties: {
      type: 'string',
      maxLength: 65535,
      default: '${user_properties}',
      description: "MQTT 5 user properties: a template that renders to a map or a list of {key, value} pairs, e.g. `${pub_props.'User-Property'}` to pass the message's own through. Empty: none.",
    },
  },
}

export const ACTION_OPTIONS_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    batchSize: { type: 'integer', minimum: 1, maximum: 10000, description: "Messages per request (default: the connector type's, e.g. 500 for PostgreSQL)." },
    batchTimeMs: { type: 'integer', minimum: 0, maximum: 60000, description: 'The longest a message waits for its batch to fill while earlier requests are in flight (with none in flight it leaves at once); 0: never waits.' },
    inflightWindow: { type: 'integer', minimum: 1, maximum: 10000, description: 'Requests in flight at once (default 100).' },
    requestTtlMs: { type: 'integer', minimum: 100, maximum: 86400000, description: 'A message not delivered this long after it was queued is dropped as expired (default 45 s).' },
    maxBufferBytes: { type: 'integer', minimum: 1024, maximum: 8 * 1024 ** 3, description: 'Queue bound in bytes; beyond it the oldest are dropped (default 256 MiB).' },
    diskBuffer: { type: 'boolean', description: 'Also keep the queue on disk, so queued messages survive a restart (at-least-once).' },
    acknowledge: { type: 'string', enum: ['on-arrival', 'on-delivery'], description: "When a device's QoS 1/2 publish is acknowledged: on-arrival (default) as the broker receives it; on-delivery once this action has delivered it, or written it to its disk buffer." },
    keepFailed: { type: 'boolean', description: 'Keep messages that finally fail or are dropped (permanent error, expired, queue full, stopped), to look at, replay or discard under the rule\'s details.' },
    keepFailedMaxMessages: { type: 'integer', minimum: 1, maximum: 1000000, description: 'Most failed messages kept; beyond it the oldest go, counted (default 10000).' },
    keepFailedMaxBytes: { type: 'integer', minimum: 65536, maximum: 256 * 1024 ** 2, description: 'Most bytes (JSON) of failed messages kept; beyond it the oldest go, counted (default 16 MiB).' },
  },
}

/** A fallback's options: a fallback cannot keep failed messages (the server refuses keepFailed there). */
export const FALLBACK_OPTIONS_SCHEMA: JsonSchema = {
  ...ACTION_OPTIONS_SCHEMA,
  properties: Object.fromEntries(Object.entries(ACTION_OPTIONS_SCHEMA.properties ?? {}).filter(([k]) => !k.startsWith('keepFailed'))),
}
