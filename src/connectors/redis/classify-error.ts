import { ConnectorError, classifyNetworkError, type ConnectorErrorCode, type FailureKind } from '../../connector-api/index.js'

/**
 * The one switch from Redis replies and ioredis errors to Junction's codes. Redis names its error
 * class in the reply's first word (WRONGPASS, NOPERM, WRONGTYPE...); ioredis adds its own plain
 * errors for a connection that is closed or not writable.
 */
export function classifyRedisError(err: unknown, target: string): ConnectorError | undefined {
  if (err instanceof ConnectorError) return err
  const message = err instanceof Error ? err.message : String(err)
  const prefix = /^[A-Z]+/.exec(message)?.[0] ?? ''
  const make = (code: ConnectorErrorCode, hint: string, kind: FailureKind = 'permanent') =>
    new ConnectorError(code, `${target}: ${message}`, { kind, hint, cause: err })
  if (prefix === 'WRONGPASS' || prefix === 'NOAUTH' || /^ERR (invalid password|AUTH .*without any password)/i.test(message)) {
    return make('AUTHENTICATION_FAILED', 'Check the username and password (requirepass or the ACL user).', 'not_connected')
  }
  if (prefix === 'NOPERM') return make('NOT_PERMITTED', "The ACL user may not run this command or touch this key: check its ACL rules (ACL GETUSER).")
  if (/^ERR (DB index is out of range|invalid DB index)/i.test(message)) {
    return make('DATABASE_NOT_FOUND', 'Redis has databases 0 to `databases - 1` (16 by default): pick one of them.', 'not_connected')
  }
  if (/^ERR SELECT is not allowed in cluster mode/i.test(message)) return make('DATABASE_NOT_FOUND', 'This server is a Redis Cluster node: set mode to cluster (database 0).', 'not_connected')
  if (/cluster support disabled/i.test(message)) return make('CONNECTION_FAILED', 'The server is not a Redis Cluster node: set mode to single.', 'not_connected')
  if (/sentinel|no such master/i.test(message) && !/^[A-Z]+ /.test(message)) {
    return make('CONNECTION_FAILED', 'Check the Sentinel addresses and the master name (sentinelMaster).', 'not_connected')
  }
  if (prefix === 'WRONGTYPE') return make('INVALID_DATA', 'The key holds another type than this command works on (e.g. HSET on a string): use another key or command.')
  if (prefix === 'CROSSSLOT') return make('INVALID_DATA', 'The keys of one command must hash to the same cluster slot: use a {hash tag}.')
  if (prefix === 'MOVED' || prefix === 'ASK') return make('QUERY_FAILED', 'The server is a Redis Cluster node: set mode to cluster.')
  if (prefix === 'OOM') return make('SERVER_RESOURCES', 'Redis reached maxmemory: free memory or raise maxmemory.', 'retryable')
  if (prefix === 'READONLY') return make('READ_ONLY', 'The server is a read-only replica: point the connector at the master (or use sentinel mode).')
  if (/^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|MISCONF)$/.test(prefix)) return make('SERVER_ERROR', 'Redis cannot take writes right now; they are retried.', 'retryable')
  if (/^ERR max number of clients/i.test(message)) return make('SERVER_RESOURCES', 'Redis reached maxclients.', 'not_connected')
  if (/Connection is closed|Stream isn't writeable|enableOfflineQueue|MaxRetriesPerRequest|None of startup nodes|Cluster isn't ready|Failed to refresh slots/i.test(message)) {
    return make('CONNECTION_LOST', 'The connection to Redis is gone; Junction reconnects and resends.', 'not_connected')
  }
  if (/^Command timed out/i.test(message)) return make('TIMEOUT', 'Redis did not answer in time.', 'retryable')
  const network = classifyNetworkError(err, target)
  if (network) return network
  if ((err as { name?: string }).name === 'ReplyError') return make('QUERY_FAILED', "Redis refused the command: check the action's command template.")
  return undefined
}
