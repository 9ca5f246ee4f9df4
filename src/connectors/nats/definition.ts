import type { ConnectorDefinition } from '../../connector-api/index.js'
import { natsConfigSchema, natsParamsSchema, type NatsConfig, type NatsParams } from './config-schema.js'
import { NatsConnector } from './nats-connector.js'

export const natsConnector: ConnectorDefinition<NatsConfig, NatsParams> = {
  type: 'nats',
  title: 'NATS / JetStream',
  summary: 'Publish MQTT messages to NATS subjects, stored by a JetStream stream with acknowledgement or as plain core messages.',
  configSchema: natsConfigSchema,
  paramsSchema: natsParamsSchema,
  // A batch goes out in one socket write and its PubAcks (or one flush) are awaited together.
  batching: { maxSize: 100, maxWaitMs: 5 },
  create: (config, ctx) => new NatsConnector(config, ctx),
}
