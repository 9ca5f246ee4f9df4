/**
 * Encoding and decoding functions (EMQX: "Encoding and Decoding Functions"): base64, JSON, hex.
 * Decoders return a string when the bytes are UTF-8 text, else a Buffer.
 */
import { bitText, bitsArg } from './bytes.js'
import {
  Bitstring,
  type FunctionFamily,
  binaryText,
  bytesArg,
  bytesResult,
  concatBinaries,
  decodeJson,
  describe,
  encodeJson,
  fail,
  isBinary,
  spec,
} from './values.js'

interface Base64Options {
  urlsafe: boolean
  padding: boolean
}

/** EMQX's options: 'no_padding' and 'urlsafe'; anything else is ignored. */
function base64Options(opts: readonly unknown[]): Base64Options {
  return { urlsafe: opts.includes('urlsafe'), padding: !opts.includes('no_padding') }
}

function base64Encode(data: unknown, ...opts: unknown[]): string {
  const o = base64Options(opts)
  const text = bytesArg('base64_encode', data).toString(o.urlsafe ? 'base64url' : 'base64')
  if (o.urlsafe && o.padding) return text.padEnd(Math.ceil(text.length / 4) * 4, '=')
  return o.padding ? text : text.replace(/=+$/, '')
}

function base64Decode(data: unknown, ...opts: unknown[]): string | Buffer {
  const name = 'base64_decode'
  const o = base64Options(opts)
  const text = stringData(name, data).replace(/[ \t\r\n]/g, '')
  const alphabet = o.urlsafe ? /^[A-Za-z0-9_-]*(={0,2})$/ : /^[A-Za-z0-9+/]*(={0,2})$/
  const m = alphabet.exec(text)
  if (!m) return fail(name, `invalid ${o.urlsafe ? 'URL-safe ' : ''}base64 text`)
  const unpadded = text.length - m[1]!.length
  const complete = text.length % 4 === 0
  if (m[1] && !complete) return fail(name, 'invalid base64 padding')
  if (o.padding && !complete) return fail(name, 'base64 text without padding (use the "no_padding" option)')
  if (unpadded % 4 === 1) return fail(name, 'invalid base64 length')
  return bytesResult(Buffer.from(text, o.urlsafe ? 'base64url' : 'base64'))
}

function stringData(name: string, v: unknown): string {
  if (!isBinary(v)) return fail(name, `expected a string, got ${describe(v)}`)
  return binaryText(name, v, 'a string')
}

function hex(name: string, bin: unknown): string {
  if (bin instanceof Bitstring) {
    const b = bitsArg(name, bin)
    // Padded at the front to whole bytes; a padding of a whole hex digit or more is not shown.
    const padBits = (8 - (b.bitLength % 8)) % 8
    const text = '0'.repeat(padBits % 4) + bitText(b, 0, b.bitLength)
    let out = ''
    for (let i = 0; i < text.length; i += 4) out += parseInt(text.slice(i, i + 4), 2).toString(16)
    return out.toUpperCase()
  }
  return bytesArg(name, bin).toString('hex').toUpperCase()
}

function withPrefix(name: string, text: string, prefix: unknown): string | Buffer {
  if (prefix === undefined) return text
  if (!isBinary(prefix)) return fail(name, `expected a string prefix, got ${describe(prefix)}`)
  return concatBinaries([typeof prefix === 'string' ? prefix : Buffer.from(prefix), text])
}

function hexstr2bin(name: string, str: unknown, prefix?: unknown): string | Buffer {
  let input = bytesArg(name, str, 'a hex string')
  if (prefix !== undefined) {
    if (!isBinary(prefix)) return fail(name, `expected a string prefix, got ${describe(prefix)}`)
    const pre = bytesArg(name, prefix)
    if (!input.subarray(0, pre.length).equals(pre)) return fail(name, `${describe(str)} does not start with the prefix ${describe(prefix)}`)
    input = input.subarray(pre.length)
  }
  let digits = input.toString('latin1')
  if (!/^[0-9a-fA-F]*$/.test(digits)) return fail(name, `${describe(str)} is not a hex string`)
  if (digits.length % 2) digits = `0${digits}`
  return bytesResult(Buffer.from(digits, 'hex'))
}

export const encodingFunctions: FunctionFamily = {
  base64_decode: spec(1, 3, base64Decode),
  base64_encode: spec(1, 3, base64Encode),
  bin2hexstr: spec(1, 2, (...args) => withPrefix('bin2hexstr', hex('bin2hexstr', args[0]), args[1])),
  hexstr2bin: spec(1, 2, (...args) => hexstr2bin('hexstr2bin', args[0], args[1])),
  json_decode: spec(1, 1, (data) => decodeJson('json_decode', stringData('json_decode', data))),
  json_encode: spec(1, 1, (data) => encodeJson('json_encode', data)),
  sqlserver_bin2hexstr: spec(1, 1, (bin) => withPrefix('sqlserver_bin2hexstr', hex('sqlserver_bin2hexstr', bin), '0x')),
}
