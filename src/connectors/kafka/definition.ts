import type { ConnectorDefinition } from '../../connector-api/index.js'
import { kafkaConfigSchema, kafkaParamsSchema, type KafkaConfig } from './config-schema.js'
import { KafkaConnector } from './kafka-connector.js'

/** Apache Kafka producer: rule actions write records to Kafka topics. */
export const kafkaConnector: ConnectorDefinition = {
  type: 'kafka',
  title: 'Apache Kafka',
  summary: 'Write rule output as records to Apache Kafka (or Kafka-compatible) topics.',
  configSchema: kafkaConfigSchema,
  paramsSchema: kafkaParamsSchema,
  // The runtime validates the config against configSchema (defaults filled) before create.
  create: (config: KafkaConfig, ctx) => new KafkaConnector(config, ctx),
}
