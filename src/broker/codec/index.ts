/** Junction's MQTT codec: packets in mqtt-packet 9's shapes, strictly decoded, encoded in one buffer. See README.md. */
export { DecodeReasonCode, MAX_POSSIBLE_PACKET_SIZE, PacketDecodeError, PacketDecoder, type PacketDecoderOptions } from './decoder.js'
export { PUBLISH_COPY_LIMIT, PacketEncodeError, encodePacket, encodePublish, encodePublishHeader, v3ConnackReturnCode } from './encoder.js'
export type * from './packet-types.js'
