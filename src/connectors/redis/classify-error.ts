import { classifyBy, classifyNetworkError, ConnectorError, type ErrorRow } from '../../connector-api/index.js'

type Facts = { err: unknown; key: string; message: string; target: string }
const SAID = '{target}: {message}'
// Redis names its error class in the reply's first word (the key: WRONGPASS, NOPERM, WRONGTYPE...);
// ioredis adds plain errors of its own for a connection that is closed or not writable.
const RULES: ReadonlyArray<ErrorRow<Facts>> = [
  [(f) => f.key === 'WRONGPASS' || f.key === 'NOAUTH' || /^ERR (invalid password|AUTH .*without any password)/i.test(f.message), 'AUTHENTICATION_FAILED', 'not_connected', SAID,
    'Check the username and password (requirepass or the ACL user).'],
  [['NOPERM'], 'NOT_PERMITTED', 'permanent', SAID, 'The ACL user may not run this command or touch this key: check its ACL rules (ACL GETUSER).'],
  [/^ERR (DB index is out of range|invalid DB index)/i, 'DATABASE_NOT_FOUND', 'not_connected', SAID, 'Redis has databases 0 to `databases - 1` (16 by default): pick one of them.'],
  [/^ERR SELECT is not allowed in cluster mode/i, 'DATABASE_NOT_FOUND', 'not_connected', SAID, 'This server is a Redis Cluster node: set mode to cluster (database 0).'],
  [/cluster support disabled/i, 'CONNECTION_FAILED', 'not_connected', SAID, 'The server is not a Redis Cluster node: set mode to single.'],
  [(f) => /sentinel|no such master/i.test(f.message) && !/^[A-Z]+ /.test(f.message), 'CONNECTION_FAILED', 'not_connected', SAID, 'Check the Sentinel addresses and the master name (sentinelMaster).'],
  [['WRONGTYPE'], 'INVALID_DATA', 'permanent', SAID, 'The key holds another type than this command works on (e.g. HSET on a string): use another key or command.'],
  [['CROSSSLOT'], 'INVALID_DATA', 'permanent', SAID, 'The keys of one command must hash to the same cluster slot: use a {hash tag}.'],
  [['MOVED', 'ASK'], 'QUERY_FAILED', 'permanent', SAID, 'The server is a Redis Cluster node: set mode to cluster.'],
  [['OOM'], 'SERVER_RESOURCES', 'retryable', SAID, 'Redis reached maxmemory: free memory or raise maxmemory.'],
  [['READONLY'], 'READ_ONLY', 'permanent', SAID, 'The server is a read-only replica: point the connector at the master (or use sentinel mode).'],
  [['LOADING', 'BUSY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'MISCONF'], 'SERVER_ERROR', 'retryable', SAID, 'Redis cannot take writes right now; they are retried.'],
  [/^ERR max number of clients/i, 'SERVER_RESOURCES', 'not_connected', SAID, 'Redis reached maxclients.'],
  [/Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|None of startup nodes|Cluster isn't ready|Failed to refresh slots/i,
    'CONNECTION_LOST', 'not_connected', SAID, 'The connection to Redis is gone; Junction reconnects and resends.'],
  [/^Command timed out/i, 'TIMEOUT', 'retryable', SAID, 'Redis did not answer in time.'],
]
const byRule = classifyBy(RULES)
const REPLY: ReadonlyArray<ErrorRow<Facts>> = [[() => true, 'QUERY_FAILED', 'permanent', SAID, "Redis refused the command: check the action's command template."]]
const byReply = classifyBy(REPLY)

/** The one table from Redis replies and ioredis errors to Junction's codes; then socket, DNS and TLS errors, then any other reply. */
export function classifyRedisError(err: unknown, target: string): ConnectorError | undefined {
  if (err instanceof ConnectorError) return err
  const message = err instanceof Error ? err.message : String(err)
  const facts = { err, key: /^[A-Z]+/.exec(message)?.[0] ?? '', message, target }
  return byRule(facts) ?? classifyNetworkError(err, target) ?? ((err as { name?: string } | undefined)?.name === 'ReplyError' ? byReply(facts) : undefined)
}
