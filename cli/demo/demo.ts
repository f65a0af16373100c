/**
 * `npm run demo`: brings the stack up, sends a sample trace with a log record and a metric, and prints where to look.
 * (The imagery services and load generator replace the sample once they exist.)
 */
import { SeverityNumber, trace } from '@opentelemetry/api';
import { start } from '../../instrumentation/src/sdk.ts';
import { Stack } from '../stack/stack.ts';

export async function demo(): Promise<number> {
  const stack = new Stack();
  const status = await stack.up();
  const endpoint = status.components.find((c) => c.name === 'collector')!.endpoints.otlpHttp!;
  const jaeger = status.components.find((c) => c.name === 'jaeger')!.endpoints.query!;
  const prometheus = status.components.find((c) => c.name === 'prometheus')!.endpoints.ui!;

  const telemetry = start({
    env: { ...process.env, OTEL_SERVICE_NAME: 'observatory-demo', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint },
    handleSignals: false,
  });
  if (!telemetry) return 1;
  const traceId = trace.getTracer('observatory-demo').startActiveSpan('scene.search', (span) => {
    span.setAttribute('scene.count', 3);
    telemetry.loggerProvider.getLogger('observatory-demo').emit({
      severityNumber: SeverityNumber.INFO,
      body: 'searched 3 scenes',
    });
    telemetry.meterProvider.getMeter('observatory-demo').createCounter('demo_searches').add(1);
    span.end();
    return span.spanContext().traceId;
  });
  await telemetry.shutdown(5000);

  process.stdout.write(`
Sample trace sent: ${traceId}
  Jaeger API   ${jaeger}/api/traces/${traceId}
  Prometheus   ${prometheus}/api/v1/query?query=demo_searches_total
  S3 logs      raw/logs/ in bucket ${status.s3.bucket} at ${status.s3.endpoint}
The stack keeps running: \`npx observatory stack status\`, \`npx observatory stack down\` to stop it.
`);
  return 0;
}
