/**
 * Hash functions (EMQX: "Hashing Functions"), returning lowercase hex. A string is hashed as its
 * UTF-8 bytes. hash(Algorithm, Data) is in EMQX's source (emqx_rule_funcs:hash/2) though not in
 * its docs; it takes the algorithm names of Erlang's crypto module.
 */
import { createHash, getHashes } from 'node:crypto'
import { type FunctionFamily, bytesArg, describe, fail, isBinary, spec } from './values.js'

/** Erlang crypto algorithm names → Node's, with Erlang's output sizes (shake128: 16 bytes, shake256: 32). */
const ALGORITHMS: Readonly<Record<string, { node: string; outputLength?: number }>> = {
  md4: { node: 'md4' },
  md5: { node: 'md5' },
  sha: { node: 'sha1' },
  sha1: { node: 'sha1' },
  sha224: { node: 'sha224' },
  sha256: { node: 'sha256' },
  sha384: { node: 'sha384' },
  sha512: { node: 'sha512' },
  sha3_224: { node: 'sha3-224' },
  sha3_256: { node: 'sha3-256' },
  sha3_384: { node: 'sha3-384' },
  sha3_512: { node: 'sha3-512' },
  shake128: { node: 'shake128', outputLength: 16 },
  shake256: { node: 'shake256', outputLength: 32 },
  blake2b: { node: 'blake2b512' },
  blake2s: { node: 'blake2s256' },
}

let available: ReadonlySet<string> | undefined

export function hashHex(name: string, algorithm: string, data: unknown): string {
  const alg = Object.prototype.hasOwnProperty.call(ALGORITHMS, algorithm) ? ALGORITHMS[algorithm] : undefined
  if (!alg) return fail(name, `unknown hash algorithm ${describe(algorithm)}`)
  available ??= new Set(getHashes())
  if (!available.has(alg.node)) return fail(name, `hash algorithm ${algorithm} is not available in this Node.js build`)
  const bytes = typeof data === 'boolean' ? Buffer.from(String(data)) : bytesArg(name, data, 'a string or binary')
  const h = alg.outputLength === undefined ? createHash(alg.node) : createHash(alg.node, { outputLength: alg.outputLength })
  return h.update(bytes).digest('hex')
}

function strictBinary(name: string, v: unknown): unknown {
  if (!isBinary(v)) fail(name, `expected a string or binary, got ${describe(v)}`)
  return v
}

export const hashingFunctions: FunctionFamily = {
  hash: spec(2, 2, (algorithm, data) => {
    if (!isBinary(algorithm)) return fail('hash', `expected an algorithm name, got ${describe(algorithm)}`)
    if (data === undefined || data === null) return fail('hash', `expected a string or binary, got ${describe(data)}`)
    return hashHex('hash', Buffer.from(algorithm).toString('utf8'), data)
  }),
  md5: spec(1, 1, (s) => hashHex('md5', 'md5', strictBinary('md5', s))),
  sha: spec(1, 1, (s) => hashHex('sha', 'sha', strictBinary('sha', s))),
  sha256: spec(1, 1, (s) => hashHex('sha256', 'sha256', strictBinary('sha256', s))),
}
