import type { ConnectorDefinition } from '../../connector-api/index.js'
import { rabbitmqConfigSchema, rabbitmqParamsSchema, type RabbitmqConfig, type RabbitmqParams } from './config-schema.js'
import { RabbitmqConnector } from './rabbitmq-connector.js'

export const rabbitmqConnector: ConnectorDefinition<RabbitmqConfig, RabbitmqParams> = {
  type: 'rabbitmq',
  title: 'RabbitMQ',
  summary: 'Publish MQTT messages to RabbitMQ exchanges (AMQP 0-9-1) with publisher confirms.',
  configSchema: rabbitmqConfigSchema,
  paramsSchema: rabbitmqParamsSchema,
  // A batch is published in one go and its confirms awaited together (RabbitMQ acks many tags at
  // once), so a batch costs one confirm wait instead of one per message.
  batching: { maxSize: 100, maxWaitMs: 5 },
  create: (config, ctx) => new RabbitmqConnector(config, ctx),
}
