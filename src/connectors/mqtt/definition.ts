import type { ConnectorDefinition } from '../../connector-api/index.js'
import { mqttConfigSchema, mqttParamsSchema, type MqttConfig, type MqttParams } from './config-schema.js'
import { MqttConnector } from './mqtt-connector.js'

/** MQTT bridge: rule actions publish to another MQTT broker. */
export const mqttConnector: ConnectorDefinition<MqttConfig, MqttParams> = {
  type: 'mqtt',
  title: 'MQTT Broker',
  summary: 'Publish rule output to another MQTT broker (a bridge), with QoS 0, 1 or 2 and MQTT 3.1.1 or 5.',
  configSchema: mqttConfigSchema,
  paramsSchema: mqttParamsSchema,
  // No batching by default: each message is one PUBLISH; the runtime's inflight window keeps many in flight.
  create: (config, ctx) => new MqttConnector(config, ctx),
}
