import type { ConnectorDefinition } from '../connector-api/index.js'
import { httpConnector } from './http/definition.js'
import { kafkaConnector } from './kafka/definition.js'
import { mqttConnector } from './mqtt/definition.js'
import { mysqlConnector } from './mysql/definition.js'
import { natsConnector } from './nats/definition.js'
import { postgresqlConnector } from './postgresql/definition.js'
import { rabbitmqConnector } from './rabbitmq/definition.js'
import { redisConnector } from './redis/definition.js'

/** The built-in connector types, in the order the type picker shows them. */
export const builtinConnectors: readonly ConnectorDefinition[] = [kafkaConnector, postgresqlConnector, mysqlConnector, mqttConnector, rabbitmqConnector, redisConnector, httpConnector, natsConnector]
