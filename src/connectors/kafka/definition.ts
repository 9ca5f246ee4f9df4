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
  // A produce request costs about the same for 1 record as for 500 (one round trip, with acks=all
  // one replication wait), so batching multiplies throughput: 500 rather than 100 cut the
  // broker's CPU by half and raised MQTT -> Kafka by ~15 % (docs/performance.md). 10 ms bounds
  // the wait behind requests in flight (there is no fixed wait: runtime/batch-policy.ts), as
  // Kafka pipelines are expected to be near real time; a batch never exceeds
  // producer.maxBatchBytes (the channel splits it).
  batching: { maxSize: 500, maxWaitMs: 10 },
  // The runtime validates the config against configSchema (defaults filled) before create.
  create: (config: KafkaConfig, ctx) => new KafkaConnector(config, ctx),
}
