import type { ConnectorDefinition } from '../../connector-api/index.js'
import { httpConfigSchema, httpParamsSchema, type HttpConfig, type HttpParams } from './config-schema.js'
import { HttpConnector } from './http-connector.js'

export const httpConnector: ConnectorDefinition<HttpConfig, HttpParams> = {
  type: 'http',
  title: 'HTTP Server',
  summary: 'Send MQTT messages to an HTTP server (webhook) as requests built from templates.',
  configSchema: httpConfigSchema,
  paramsSchema: httpParamsSchema,
  // No batching: one message is one request; the pool's connections carry requests in parallel.
  create: (config, ctx) => new HttpConnector(config, ctx),
}
