// Encoding, hashing, compression and bit sequence functions: EMQX docs examples,
// emqx_rule_funcs_SUITE cases (its property tests become round trips over fixed data), edges.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { type Case, approx, bits, buf, bytes, call, err, runCases } from './functions-cases.js'

const hex = (h: string): Buffer => Buffer.from(h, 'hex')
const X9F4E58 = hex('9F4E58')

const encoding: Case[] = [
  // EMQX docs
  ['base64_decode', ['aGVsbG8='], 'hello'],
  ['base64_encode', ['hello'], 'aGVsbG8='],
  ['base64_encode', [hex('CB48CD')], 'y0jN'],
  ['base64_decode', ['y0jN'], buf(0xcb, 0x48, 0xcd)],
  ['json_decode', ['{"a": 1}'], { a: 1 }],
  ['json_encode', [[1, 2, 3]], '[1,2,3]'],
  ['bin2hexstr', [hex('CB48CDC9C90700')], 'CB48CDC9C90700'],
  // base64 options (emqx_rule_funcs_SUITE)
  ['base64_encode', ['a'], 'YQ=='],
  ['base64_encode', ['a', 'no_padding'], 'YQ'],
  ['base64_encode', [buf(255, 255, 255)], '////'],
  ['base64_encode', [buf(255, 255, 255), 'urlsafe'], '____'],
  ['base64_encode', [buf(251, 239)], '++8='],
  ['base64_encode', [buf(251, 239), 'urlsafe'], '--8='],
  ['base64_encode', [buf(251, 239), 'urlsafe', 'no_padding'], '--8'],
  ['base64_encode', [buf(251, 239), 'no_padding', 'urlsafe'], '--8'],
  ['base64_encode', ['hello', 'unknown_option'], 'aGVsbG8='],
  ['base64_encode', ['hello', 'unknown1', 'unknown2'], 'aGVsbG8='],
  ['base64_encode', ['hello', 'no_padding', 'no_padding'], 'aGVsbG8'],
  ['base64_encode', ['test data', 'no_padding', 'urlsafe'], 'dGVzdCBkYXRh'],
  ['base64_decode', ['aGVsbG8', 'no_padding'], 'hello'],
  ['base64_decode', ['aGVsbG8=', 'no_padding'], 'hello'],
  ['base64_decode', ['aGVsbG8=', 'unknown_option'], 'hello'],
  ['base64_decode', ['--8=', 'urlsafe'], buf(251, 239)],
  ['base64_decode', ['--8', 'urlsafe', 'no_padding'], buf(251, 239)],
  ['base64_decode', ['--8', 'no_padding', 'urlsafe'], buf(251, 239)],
  ['base64_decode', ['5L2g5aW9'], '你好'],
  ['base64_decode', [''], ''],
  ['base64_decode', ['aGVsbG8'], err(/without padding/)],
  ['base64_decode', ['++8=', 'urlsafe'], err(/invalid URL-safe base64/)],
  ['base64_decode', ['--8='], err(/invalid base64/)],
  ['base64_decode', ['a==='], err(/invalid base64/)],
  ['base64_decode', [123], err(/expected a string, got 123/)],
  ['base64_encode', [123], err(/expected a binary, got 123/)],
  // JSON
  ['json_decode', ['[1,2]'], [1, 2]],
  ['json_decode', ['"x"'], 'x'],
  ['json_decode', ['null'], null],
  ['json_decode', ['{"a":1.0,"b":[true,null]}'], { a: 1, b: [true, null] }],
  ['json_decode', ['{bad'], err(/^json_decode: invalid JSON/)],
  ['json_decode', [''], err(/invalid JSON/)],
  ['json_decode', [1], err(/expected a string, got 1/)],
  ['json_encode', [{ a: 'b' }], '{"a":"b"}'],
  ['json_encode', ['x'], '"x"'],
  ['json_encode', [1.5], '1.5'],
  ['json_encode', [{ a: undefined, b: null }], '{"a":null,"b":null}'],
  ['json_encode', [Buffer.from('hi')], '"hi"'],
  ['json_encode', [{ 你: '好' }], '{"你":"好"}'],
  ['json_encode', [bits([1, 3])], err(/cannot encode a bitstring/)],
  // hex (suite)
  ['bin2hexstr', [buf(1, 2)], '0102'],
  ['bin2hexstr', [buf(17, 33)], '1121'],
  ['bin2hexstr', ['A'], '41'],
  ['bin2hexstr', [''], ''],
  ['bin2hexstr', [buf(1, 2), '0x'], '0x0102'],
  ['bin2hexstr', [buf(1, 2), '0X'], '0X0102'],
  ['bin2hexstr', [buf(17, 33), '0b'], '0b1121'],
  ['bin2hexstr', [buf(17, 33), '0B'], '0B1121'],
  ['bin2hexstr', [buf(1, 2), '🧠'], '🧠0102'],
  ['bin2hexstr', [bits([1, 5], [2, 8])], '0102'],
  ['bin2hexstr', [bits([16, 5], [2, 8])], '1002'],
  ['bin2hexstr', [bits([16, 8], [2, 8])], '1002'],
  ['bin2hexstr', [bits([1, 4], [2, 8])], '102'],
  ['bin2hexstr', [bits([1, 3], [2, 8])], '102'],
  ['bin2hexstr', [bits([1, 1], [2, 8])], '102'],
  ['bin2hexstr', [bits([2, 1], [2, 8])], '002'],
  ['bin2hexstr', [bits([2, 8])], '02'],
  ['bin2hexstr', [bits([2, 2])], '2'],
  ['bin2hexstr', [bits([17, 9], [33, 8])], '01121'],
  ['bin2hexstr', [1], err(/expected a binary, got 1/)],
  ['bin2hexstr', [buf(1), 1], err(/expected a string prefix/)],
  ['sqlserver_bin2hexstr', [buf(1, 2)], '0x0102'],
  ['sqlserver_bin2hexstr', [buf(17, 33)], '0x1121'],
  ['sqlserver_bin2hexstr', [bits([1, 5], [2, 8])], '0x0102'],
  ['sqlserver_bin2hexstr', [bits([2, 2])], '0x2'],
  ['sqlserver_bin2hexstr', [bits([17, 9], [33, 8])], '0x01121'],
  ['hexstr2bin', ['6364f'], bytes('06364f')],
  ['hexstr2bin', ['a'], bytes('0a')],
  ['hexstr2bin', ['f'], bytes('0f')],
  ['hexstr2bin', ['5'], bytes('05')],
  ['hexstr2bin', ['0102'], bytes('0102')],
  ['hexstr2bin', ['1121'], bytes('1121')],
  ['hexstr2bin', ['0x6364f', '0x'], bytes('06364f')],
  ['hexstr2bin', ['0Xa', '0X'], bytes('0a')],
  ['hexstr2bin', ['0bf', '0b'], bytes('0f')],
  ['hexstr2bin', ['0B5', '0B'], bytes('05')],
  ['hexstr2bin', ['0x0102', '0x'], bytes('0102')],
  ['hexstr2bin', ['0X1121', '0X'], bytes('1121')],
  ['hexstr2bin', ['0x6364f', 'ab'], err(/does not start with the prefix "ab"/)],
  ['hexstr2bin', ['0Xa', 'ef'], err(/does not start with the prefix/)],
  ['hexstr2bin', ['0bf', '你好👋'], err(/does not start with the prefix/)],
  ['hexstr2bin', ['0B5', '🐸'], err(/does not start with the prefix/)],
  ['hexstr2bin', ['zz'], err(/is not a hex string/)],
  // decoded bytes are a string when they are UTF-8 text, else a Buffer
  ['hexstr2bin', ['68656C6C6F'], 'hello'],
  ['hexstr2bin', ['C3A9'], 'é'],
  ['hexstr2bin', ['FF'], buf(0xff)],
  ['hexstr2bin', [''], ''],
]

const hashing: Case[] = [
  ['md5', ['hello'], '5d41402abc4b2a76b9719d911017c592'],
  ['sha', ['hello'], 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'],
  ['sha256', ['hello'], '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824'],
  ['md5', [''], 'd41d8cd98f00b204e9800998ecf8427e'],
  ['md5', [buf(0xff)], '00594fd4f42ba43fc1ca0427a0576295'],
  ['md5', [123], err(/^md5: expected a string or binary, got 123$/)],
  ['sha', [undefined], err(/got undefined/)],
  ['sha256', [true], err(/got true/)],
  ['hash', ['sha1', 'hello'], 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'],
  ['hash', ['sha', 'hello'], 'aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d'],
  ['hash', ['md5', 'abc'], '900150983cd24fb0d6963f7d28e17f72'],
  ['hash', ['sha224', 'abc'], '23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7'],
  ['hash', ['sha384', 'abc'], 'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7'],
  ['hash', ['sha512', 'abc'], 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f'],
  ['hash', ['sha3_256', ''], 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a'],
  ['hash', ['shake128', ''], '7f9c2ba4e88f827d616045507605853e'],
  ['hash', ['shake256', ''], '46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f'],
  ['hash', ['blake2s', 'abc'], '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982'],
  ['hash', ['blake2b', ''], '786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce'],
  ['hash', ['unknown_algorithm', 'a'], err(/unknown hash algorithm "unknown_algorithm"/)],
  ['hash', ['toString', 'a'], err(/unknown hash algorithm/)],
  ['hash', ['sha1', null], err(/got null/)],
  ['hash', [1, 'a'], err(/expected an algorithm name/)],
]

const compression: Case[] = [
  ['gunzip', [hex('1F8B0800000000000013CB48CDC9C9070086A6103605000000')], 'hello'],
  ['zip', ['hello'], hex('CB48CDC9C90700')],
  ['unzip', [hex('CB48CDC9C90700')], 'hello'],
  ['zip_compress', ['hello'], hex('789CCB48CDC9C90700062C0215')],
  ['zip_uncompress', [hex('789CCB48CDC9C90700062C0215')], 'hello'],
  ['unzip', ['hello'], err(/^unzip: invalid deflate data/)],
  ['gunzip', ['xx'], err(/invalid gzip data/)],
  ['zip_uncompress', [hex('789C')], err(/invalid zlib data/)],
  ['zip', [1], err(/expected a binary, got 1/)],
]

const bitSequences: Case[] = [
  // EMQX docs
  ['bitsize', ['abc'], 24],
  ['bitsize', ['你好'], 48],
  ['bytesize', ['abc'], 3],
  ['bytesize', ['你好'], 6],
  ['subbits', [X9F4E58, 8], 159],
  ['subbits', [X9F4E58, 16], 40782],
  ['subbits', [Buffer.from('n05Y', 'base64'), 8], 159],
  ['subbits', [X9F4E58, 1, 8], 159],
  ['subbits', [X9F4E58, 9, 8], 78],
  ['subbits', [Buffer.from('n05Y', 'base64'), 9, 4], 4],
  ['subbits', [X9F4E58, 1, 16, 'integer', 'unsigned', 'big'], 40782],
  ['subbits', [X9F4E58, 1, 16, 'integer', 'signed', 'big'], -24754],
  ['subbits', [X9F4E58, 1, 16, 'integer', 'unsigned', 'little'], 20127],
  ['subbits', [X9F4E58, 1, 16, 'float', 'unsigned', 'big'], -0.00713348388671875],
  ['subbits', [X9F4E58, 1, 16, 'float', 'signed', 'big'], -0.00713348388671875],
  // emqx_rule_funcs_SUITE
  ['bitsize', ['a'], 8],
  ['bitsize', [bits([15, 4])], 4],
  ['bytesize', ['a'], 1],
  ['bytesize', [''], 0],
  ...[1, 3, 7, 15, 31, 63, 127, 255].map((v, i): Case => ['subbits', [buf(255), i + 1], v]),
  ...[1, 3, 7, 15, 31, 63, 127, 255].map((v, i): Case => ['subbits', [buf(255), 1, i + 1], v]),
  ...[1, 3, 7, 15, 31, 63, 127, 127].map((v, i): Case => ['subbits', [buf(255), 2, i + 1], v]),
  ['subbits', [hex('000001C8'), 1, 32, 'integer', 'signed', 'big'], 456],
  ['subbits', [hex('FFFFFE38'), 1, 32, 'integer', 'signed', 'big'], -456],
  ['subbits', [hex('000001C8'), 1, 32, 'integer', 'unsigned'], 456],
  ['subbits', [hex('4015333333333333'), 1, 64, 'float', 'unsigned', 'big'], approx(5.3)],
  ['subbits', [hex('C015333333333333'), 1, 64, 'float', 'signed', 'big'], approx(-5.3)],
  ['subbits', [hex('4015333333333333'), 1, 64, 'float'], approx(5.3)],
  // bytes of an array (an iolist), floats of 32 bits, little endian, bits, out of range
  ['bytesize', [['ab', 'c', 0]], 4],
  ['bytesize', [1], err(/expected a binary, got 1/)],
  ['subbits', [hex('3F800000'), 1, 32, 'float'], 1],
  ['subbits', [hex('0000803F'), 1, 32, 'float', 'unsigned', 'little'], 1],
  ['subbits', [hex('1230'), 1, 12, 'integer', 'unsigned', 'little'], 0x312],
  ['subbits', [hex('80'), 1, 4, 'integer', 'signed'], -8],
  ['subbits', ['A', 1, 8, 'bits'], 'A'],
  ['subbits', [X9F4E58, 1, 16, 'bits'], buf(0x9f, 0x4e)],
  ['subbits', [X9F4E58, 30, 8], undefined],
  ['subbits', [buf(255), 0, 8], undefined],
  ['subbits', [hex('7FFFFFFFFFFFFFFF'), 1, 64], err(/outside the exact integer range/)],
  ['subbits', [X9F4E58, 1, 20, 'float'], err(/a float must be 16, 32 or 64 bits/)],
  ['subbits', [hex('7FC00000'), 1, 32, 'float'], err(/not a finite float/)],
  ['subbits', [X9F4E58, 1, 16, 'double'], err(/invalid output type "double"/)],
  ['subbits', [X9F4E58, 1, 16, 'integer', 'neither'], err(/invalid signedness/)],
  ['subbits', [X9F4E58, 1, 16, 'integer', 'signed', 'middle'], err(/invalid endianness/)],
  ['subbits', [123, 8], err(/expected a binary, got 123/)],
]

runCases('encoding and decoding functions', encoding)
runCases('hashing functions', hashing)
runCases('compression functions', compression)
runCases('bit sequence functions', bitSequences)

describe('round trips (the suite\'s property tests, over fixed and random data)', () => {
  const samples: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from('hello'),
    Buffer.from('你好🐸'),
    Buffer.from([0, 255, 1, 254]),
    ...Array.from({ length: 20 }, (_, i) => randomBytes(i * 7)),
  ]
  const asBytes = (v: unknown): string => Buffer.from(v as string).toString('hex')

  it('hexstr2bin(bin2hexstr(x)) gives back the bytes', () => {
    for (const s of samples) assert.equal(asBytes(call('hexstr2bin', call('bin2hexstr', s))), s.toString('hex'))
  })
  it('base64 decode(encode(x)) with every option combination', () => {
    for (const s of samples) {
      assert.equal(asBytes(call('base64_decode', call('base64_encode', s))), s.toString('hex'))
      assert.equal(asBytes(call('base64_decode', call('base64_encode', s, 'no_padding'), 'no_padding')), s.toString('hex'))
      assert.equal(asBytes(call('base64_decode', call('base64_encode', s, 'urlsafe'), 'urlsafe')), s.toString('hex'))
      const both = call('base64_encode', s, 'no_padding', 'urlsafe') as string
      assert.doesNotMatch(both, /[+/=]/)
      assert.equal(asBytes(call('base64_decode', both, 'urlsafe', 'no_padding')), s.toString('hex'))
    }
  })
  it('unzip(zip(x)), gunzip(gzip(x)), zip_uncompress(zip_compress(x))', () => {
    for (const s of samples) {
      assert.equal(asBytes(call('unzip', call('zip', s))), s.toString('hex'))
      assert.equal(asBytes(call('gunzip', call('gzip', s))), s.toString('hex'))
      assert.equal(asBytes(call('zip_uncompress', call('zip_compress', s))), s.toString('hex'))
    }
  })
  it('gzip output has the gzip header and is a Buffer', () => {
    const z = call('gzip', 'hello')
    assert.ok(Buffer.isBuffer(z))
    assert.equal(z.subarray(0, 3).toString('hex'), '1f8b08')
  })
  it('hash lengths are fixed (md5 32, sha 40, sha256 64 hex digits), lowercase', () => {
    for (const s of samples) {
      assert.match(call('md5', s) as string, /^[0-9a-f]{32}$/)
      assert.match(call('sha', s) as string, /^[0-9a-f]{40}$/)
      assert.match(call('sha256', s) as string, /^[0-9a-f]{64}$/)
    }
  })
  it('hash reads true/false as their names, as EMQX reads atoms', () => {
    assert.equal(call('hash', 'sha', true), call('sha', 'true'))
  })
  it('subbits with output type bits then bin2hexstr (the suite\'s uneven bytes case)', () => {
    const sub = call('subbits', call('hexstr2bin', '9F4E58'), 1, 6, 'bits', 'unsigned', 'big')
    assert.equal(call('bitsize', sub), 6)
    assert.equal(call('bin2hexstr', sub), '27')
  })
})
