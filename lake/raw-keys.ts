/**
 * Which raw objects the lake reads, by the name the Collector's awss3 exporter gives them: `<uuid>.<format>[.<codec>]`
 * with format `json` (otlp_json: events, logs, metrics) or `binpb` (otlp_proto: spans), codec `gz` or `zst`.
 */
const RAW_OBJECT = /\.(?:json|binpb)(?:\.gz|\.zst)?$/;
const PROTO_OBJECT = /\.binpb(?:\.gz|\.zst)?$/;

/** A raw object the compaction reads (anything else under a raw prefix is left alone). */
export function isRawObject(key: string): boolean {
  return RAW_OBJECT.test(key);
}

/** A raw object written as OTLP protobuf rather than OTLP JSON. */
export function isProtoObject(key: string): boolean {
  return PROTO_OBJECT.test(key);
}
