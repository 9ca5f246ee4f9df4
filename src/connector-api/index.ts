// The only module a connector may import from Junction.
export * from './contract.js'
export * from './error-codes.js'
export * from './errors.js'
export * from './deadline.js'
export * from './probe.js'
export * from './schema-fields.js'
export * from './templates.js'
export * from './mqtt-properties.js'
