import type { FastifyInstance } from 'fastify'
import { Type } from '@sinclair/typebox'
import type { ApiServices } from '../api-services.js'
import { listOf } from '../schemas.js'

const Node = Type.Object({
  name: Type.String({ description: 'JUNCTION_NODE_NAME, or the name the node keeps in its data directory.' }),
  address: Type.String({ description: 'Where the node\'s API answers.' }),
  status: Type.Union([Type.Literal('up'), Type.Literal('down')], { description: '`down` when its last heartbeat is more than 5 s old.' }),
  version: Type.String(),
  startedAt: Type.String({ format: 'date-time' }),
  lastHeartbeat: Type.String({ format: 'date-time' }),
  self: Type.Boolean({ description: 'True for the node that answered this request.' }),
}, { additionalProperties: false })

/** The Junction nodes sharing this installation's store (docs/cluster.md). */
export async function nodeRoutes(app: FastifyInstance, { services }: { services: ApiServices }): Promise<void> {
  app.get('/api/v1/nodes', {
    schema: {
      tags: ['system'], summary: 'The nodes of this installation and whether each is up',
      description: 'Every Junction process on the same PostgreSQL store, from their heartbeats (one per second). With the embedded SQLite store, only this node.',
      response: { 200: listOf(Node) },
    },
  }, async () => ({ data: await services.cluster.nodes() }))
}
