/**
 * Compression functions (EMQX: "Compression and Decompression Functions"), Erlang's zlib
 * equivalents: zip/unzip are raw DEFLATE, gzip/gunzip have the gzip header and trailer,
 * zip_compress/zip_uncompress the zlib header and checksum. Compressing returns a Buffer;
 * decompressing returns a string when the bytes are UTF-8 text, else a Buffer.
 */
import { deflateRawSync, deflateSync, gunzipSync, gzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib'
import { type FunctionFamily, bytesArg, bytesResult, fail, MAX_VALUE_SIZE, spec } from './values.js'

/** A few bytes can inflate to gigabytes: zlib stops at the value limit instead of allocating. */
const DECOMPRESS_OPTIONS: ZlibOptions = { maxOutputLength: MAX_VALUE_SIZE }

function compress(name: string, f: (b: Buffer) => Buffer) {
  return spec(1, 1, (data) => f(bytesArg(name, data)))
}

function decompress(name: string, f: (b: Buffer, options: ZlibOptions) => Buffer, what: string) {
  return spec(1, 1, (data) => {
    const input = bytesArg(name, data)
    let out: Buffer
    try {
      out = f(input, DECOMPRESS_OPTIONS)
    } catch (e) {
      if ((e as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
        return fail(name, `the decompressed data is larger than ${MAX_VALUE_SIZE} bytes, the limit of one value`)
      }
      return fail(name, `invalid ${what} data: ${(e as Error).message}`)
    }
    return bytesResult(out)
  })
}

export const compressionFunctions: FunctionFamily = {
  gunzip: decompress('gunzip', gunzipSync, 'gzip'),
  gzip: compress('gzip', gzipSync),
  unzip: decompress('unzip', inflateRawSync, 'deflate'),
  zip: compress('zip', deflateRawSync),
  zip_compress: compress('zip_compress', deflateSync),
  zip_uncompress: decompress('zip_uncompress', inflateSync, 'zlib'),
}
