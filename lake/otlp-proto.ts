/**
 * OTLP protobuf traces (an `ExportTraceServiceRequest`, as the Collector's awss3 exporter writes `raw/traces/` with the
 * otlp_proto marshaler: `.binpb.zst`) decoded into the OTLP JSON document the flatteners read, as the Collector's
 * otlp_json marshaler would have written it: IDs as lowercase hex (empty when unset), 64-bit integers as decimal
 * strings, bytes as base64, enums as numbers. Only the fields the lake reads are kept; unknown fields are skipped, as
 * protobuf readers do. A string longer than `maxStringBytes` becomes the same placeholder the JSON path puts there
 * (lake/oversize.ts), so a record holding one is filed as too large without the string ever being a JavaScript value.
 *
 * Hand-written rather than generated: the wire format is five cases, and the lake needs a dozen fields of a stable
 * schema (opentelemetry-proto `trace/v1/trace.proto`, `common/v1/common.proto`).
 */
import type { OtlpTracesDocument } from './flatten-telemetry.ts';
import { elidedString } from './oversize.ts';
import type { OtlpAnyValue, OtlpKeyValue } from './otlp.ts';

/** Thrown for bytes that are not a well-formed protobuf message (truncated, a length past the end, a bad wire type). */
export class NotOtlpProtoError extends Error {
  constructor(reason: string) {
    super(`not OTLP protobuf: ${reason}`);
    this.name = 'NotOtlpProtoError';
  }
}

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A protobuf message's bytes, read field by field. */
class Reader {
  private readonly buffer: Buffer;
  private readonly end: number;
  private pos: number;

  constructor(buffer: Buffer, start = 0, end = buffer.length) {
    this.buffer = buffer;
    this.pos = start;
    this.end = end;
  }

  /** The next field's number and wire type, or undefined at the end of the message. */
  next(): { field: number; wire: number } | undefined {
    if (this.pos >= this.end) return undefined;
    const tag = this.varint();
    return { field: Number(tag >> 3n), wire: Number(tag & 7n) };
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) throw new NotOtlpProtoError('truncated varint');
      const byte = this.buffer[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
    }
    throw new NotOtlpProtoError('varint longer than 10 bytes');
  }

  fixed64(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64LE(this.pos);
    this.pos += 8;
    return value;
  }

  double(): number {
    this.need(8);
    const value = this.buffer.readDoubleLE(this.pos);
    this.pos += 8;
    return value;
  }

  /** A length-delimited field's extent: [start, end) in the buffer. */
  delimited(): { start: number; end: number } {
    const length = Number(this.varint());
    this.need(length);
    const start = this.pos;
    this.pos += length;
    return { start, end: this.pos };
  }

  message(): Reader {
    const { start, end } = this.delimited();
    return new Reader(this.buffer, start, end);
  }

  bytes(): Buffer {
    const { start, end } = this.delimited();
    return this.buffer.subarray(start, end);
  }

  string(maxBytes: number): string {
    const bytes = this.bytes();
    return bytes.length > maxBytes ? elidedString(bytes) : bytes.toString('utf8');
  }

  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === LENGTH_DELIMITED) this.delimited();
    else if (wire === FIXED64 || wire === FIXED32) {
      const size = wire === FIXED64 ? 8 : 4;
      this.need(size);
      this.pos += size;
    } else throw new NotOtlpProtoError(`wire type ${wire}`);
  }

  private need(bytes: number): void {
    if (bytes < 0 || this.pos + bytes > this.end)
      throw new NotOtlpProtoError('field past the end of its message');
  }
}

/** int64 as the Collector's JSON writes it: a decimal string, negative when the top bit is set. */
const int64 = (value: bigint): string => BigInt.asIntN(64, value).toString();

/** A decoded message's fields, one reader callback per field number (others skipped). */
function readFields(reader: Reader, on: Record<number, (reader: Reader, wire: number) => void>): void {
  for (let f = reader.next(); f; f = reader.next()) {
    const handle = on[f.field];
    if (handle) handle(reader, f.wire);
    else reader.skip(f.wire);
  }
}

function anyValue(reader: Reader, maxBytes: number): OtlpAnyValue {
  const value: OtlpAnyValue = {};
  readFields(reader, {
    1: (r) => (value.stringValue = r.string(maxBytes)),
    2: (r) => (value.boolValue = r.varint() !== 0n),
    3: (r) => (value.intValue = int64(r.varint())),
    4: (r) => (value.doubleValue = r.double()),
    5: (r) => {
      const values: OtlpAnyValue[] = [];
      readFields(r.message(), { 1: (item) => values.push(anyValue(item.message(), maxBytes)) });
      value.arrayValue = { values };
    },
    6: (r) => (value.kvlistValue = { values: keyValues(r.message(), 1, maxBytes) }),
    7: (r) => (value.bytesValue = r.bytes().toString('base64')),
  });
  return value;
}

function keyValue(reader: Reader, maxBytes: number): OtlpKeyValue {
  const kv: OtlpKeyValue = { key: '' };
  readFields(reader, {
    1: (r) => (kv.key = r.string(Infinity)),
    2: (r) => (kv.value = anyValue(r.message(), maxBytes)),
  });
  return kv;
}

/** The repeated KeyValue field `field` of a message. */
function keyValues(reader: Reader, field: number, maxBytes: number): OtlpKeyValue[] {
  const list: OtlpKeyValue[] = [];
  readFields(reader, { [field]: (r) => list.push(keyValue(r.message(), maxBytes)) });
  return list;
}

type Document = NonNullable<OtlpTracesDocument['resourceSpans']>;
type ResourceSpans = Document[number];
type ScopeSpans = NonNullable<ResourceSpans['scopeSpans']>[number];
type Span = NonNullable<ScopeSpans['spans']>[number];

function span(reader: Reader, maxBytes: number): Span {
  const s: Span = { traceId: '', spanId: '', parentSpanId: '', attributes: [], events: [], links: [] };
  readFields(reader, {
    1: (r) => (s.traceId = r.bytes().toString('hex')),
    2: (r) => (s.spanId = r.bytes().toString('hex')),
    4: (r) => (s.parentSpanId = r.bytes().toString('hex')),
    5: (r) => (s.name = r.string(maxBytes)),
    6: (r) => (s.kind = Number(r.varint())),
    7: (r) => (s.startTimeUnixNano = r.fixed64().toString()),
    8: (r) => (s.endTimeUnixNano = r.fixed64().toString()),
    9: (r) => s.attributes!.push(keyValue(r.message(), maxBytes)),
    11: (r) => {
      const event: NonNullable<Span['events']>[number] = { attributes: [] };
      readFields(r.message(), {
        1: (e) => (event.timeUnixNano = e.fixed64().toString()),
        2: (e) => (event.name = e.string(maxBytes)),
        3: (e) => event.attributes!.push(keyValue(e.message(), maxBytes)),
      });
      s.events!.push(event);
    },
    13: (r) => {
      const link: NonNullable<Span['links']>[number] = { traceId: '', spanId: '', attributes: [] };
      readFields(r.message(), {
        1: (l) => (link.traceId = l.bytes().toString('hex')),
        2: (l) => (link.spanId = l.bytes().toString('hex')),
        4: (l) => link.attributes!.push(keyValue(l.message(), maxBytes)),
      });
      s.links!.push(link);
    },
    15: (r) => {
      const status: NonNullable<Span['status']> = {};
      readFields(r.message(), {
        2: (st) => (status.message = st.string(maxBytes)),
        3: (st) => (status.code = Number(st.varint())),
      });
      s.status = status;
    },
  });
  return s;
}

function scopeSpans(reader: Reader, maxBytes: number): ScopeSpans {
  const scoped: ScopeSpans = { spans: [] };
  readFields(reader, {
    1: (r) => {
      const scope: { name?: string } = {};
      readFields(r.message(), { 1: (sc) => (scope.name = sc.string(maxBytes)) });
      scoped.scope = scope;
    },
    2: (r) => scoped.spans!.push(span(r.message(), maxBytes)),
  });
  return scoped;
}

function resourceSpans(reader: Reader, maxBytes: number): ResourceSpans {
  const resource: ResourceSpans = { scopeSpans: [] };
  readFields(reader, {
    1: (r) => (resource.resource = { attributes: keyValues(r.message(), 1, maxBytes) }),
    2: (r) => resource.scopeSpans!.push(scopeSpans(r.message(), maxBytes)),
  });
  return resource;
}

/**
 * An `ExportTraceServiceRequest` as the OTLP JSON document of the same spans. Strings longer than `maxStringBytes`
 * are elided (see the module comment). Throws NotOtlpProtoError for bytes that are not a protobuf message.
 */
export function tracesFromProto(bytes: Uint8Array, maxStringBytes = Infinity): OtlpTracesDocument {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const document: OtlpTracesDocument = { resourceSpans: [] };
  readFields(new Reader(buffer), {
    1: (r, wire) => {
      if (wire !== LENGTH_DELIMITED) throw new NotOtlpProtoError(`resource_spans with wire type ${wire}`);
      document.resourceSpans!.push(resourceSpans(r.message(), maxStringBytes));
    },
  });
  return document;
}
