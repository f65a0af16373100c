/**
 * Sizing of the scale-out topology: spans per second per core for each Collector tier, measured on this machine.
 * The committed configs run on loopback ports — one agent (collector-config/agent.yaml) → one load-balancing Collector
 * (gateway-lb.yaml) → two sampling Collectors (base.yaml + gateway-sampling.yaml) → a small OTLP sink standing in for
 * the trace store — and our own OTLP load client (bench/lib/otlp-load.ts) sends demo-like traces to the agent. Each
 * tier's figure is the spans it accepted (its own otelcol_receiver_accepted_spans) divided by the CPU seconds its
 * processes used (/proc), so the figure holds on a shared machine where wall-clock throughput would not: it is what
 * one fully used core of that tier handles. Run it inside a network namespace (it binds fixed ports):
 *
 *   unshare --net sh -c 'ip link set lo up && npm run bench -- tiers [--traces 20000] [--share 10]'
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CollectorProcess, promSamples } from './lib/collector-process.ts';
import { sendTraces, TraceGenerator } from './lib/otlp-load.ts';
import { startTiers } from './lib/tiers.ts';
import { printFigures, type Figure } from './report.ts';

/** The command line (`npm run bench -- tiers [options]` or `node bench/tiers.ts`); returns the figures. */
export async function cli(argv: string[] = process.argv.slice(2)): Promise<Figure[]> {
  const { values } = parseArgs({
    args: argv,
    options: {
      traces: { type: 'string', default: '20000' },
      share: { type: 'string', default: '10' },
      base: { type: 'string', default: '25800' },
    },
    allowPositionals: true,
  });
  const traceCount = Number(values.traces);
  const base = Number(values.base);
  if (!Number.isInteger(traceCount) || traceCount < 100) throw new Error('--traces: a whole number ≥ 100');

  const dir = mkdtempSync(join(tmpdir(), 'observatory-bench-tiers-'));
  const token = randomBytes(24).toString('hex');

  // The trace store's stand-in: accepts every OTLP/HTTP request and counts bytes.
  let sinkRequests = 0;
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      sinkRequests++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(base + 40, '127.0.0.1', resolve));

  const tiers = await startTiers({
    base,
    dir,
    token,
    tracesEndpoint: `http://127.0.0.1:${base + 40}`,
    samplingEnv: {
      OBSERVATORY_SAMPLING_PERCENTAGE: values.share,
      OBSERVATORY_SAMPLING_DECISION_WAIT: '2s',
    },
  });
  const agentPorts = { grpc: base + 30, http: base + 31, health: base + 32, metrics: base + 33 };
  const agent = new CollectorProcess('agent', {
    role: 'agent',
    healthPort: agentPorts.health,
    logFile: join(dir, 'agent.log'),
    env: {
      OBSERVATORY_AGENT_LISTEN_HOST: '127.0.0.1',
      OBSERVATORY_COLLECTOR_OTLP_GRPC_PORT: String(agentPorts.grpc),
      OBSERVATORY_COLLECTOR_OTLP_HTTP_PORT: String(agentPorts.http),
      OBSERVATORY_COLLECTOR_HEALTH_PORT: String(agentPorts.health),
      OBSERVATORY_COLLECTOR_METRICS_PORT: String(agentPorts.metrics),
      OBSERVATORY_COLLECTOR_STORAGE_DIR: join(dir, 'agent-queue'),
      OBSERVATORY_AGENT_GATEWAY_ENDPOINT: `127.0.0.1:${base}`,
      OBSERVATORY_AGENT_GATEWAY_INSECURE: 'true',
      OBSERVATORY_GATEWAY_TOKEN: token,
    },
  });
  await agent.start();

  const tiersOf = [
    { tier: 'agent', processes: [agent], metrics: [`http://127.0.0.1:${agentPorts.metrics}/metrics`] },
    { tier: 'load-balancing', processes: [tiers.lb], metrics: [tiers.ownMetrics[0]!] },
    { tier: 'sampling', processes: tiers.samplers, metrics: tiers.ownMetrics.slice(1) },
  ];

  async function acceptedSpans(urls: string[]): Promise<number> {
    let total = 0;
    for (const url of urls) {
      const text = await (await fetch(url)).text();
      total += promSamples(text, 'otelcol_receiver_accepted_spans').reduce((n, s) => n + s.value, 0);
    }
    return total;
  }

  try {
    const cpuBefore = tiersOf.map((t) => t.processes.reduce((n, p) => n + p.cpuSeconds(), 0));
    const spansBefore = await Promise.all(tiersOf.map((t) => acceptedSpans(t.metrics)));
    const started = performance.now();
    const sent = await sendTraces(new TraceGenerator(2026), traceCount, {
      endpoint: `http://127.0.0.1:${agentPorts.http}`,
      tracesPerRequest: 50,
      concurrency: 4,
      stage: 'bench',
    });
    const sendSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`sent ${sent.spans} spans in ${sendSeconds.toFixed(1)} s; waiting for the tiers\n`);
    // Wait until every tier has taken in every span and the last decisions are exported (the sink goes quiet), at
    // most two minutes.
    let lastSink = -1;
    const deadline = Date.now() + 120_000;
    for (let quiet = 0; quiet < 3 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const sampling = (await acceptedSpans(tiersOf[2]!.metrics)) - spansBefore[2]!;
      const done = sampling >= sent.spans && sinkRequests === lastSink;
      quiet = done ? quiet + 1 : 0;
      lastSink = sinkRequests;
      process.stderr.write(
        `  sampling tier accepted ${sampling} of ${sent.spans} spans; sink requests ${sinkRequests}\n`,
      );
    }
    const rows = await Promise.all(
      tiersOf.map(async (t, i) => {
        const cpu = t.processes.reduce((n, p) => n + p.cpuSeconds(), 0) - cpuBefore[i]!;
        const spans = (await acceptedSpans(t.metrics)) - spansBefore[i]!;
        return { ...t, cpu, spans };
      }),
    );
    const out = [
      `Collector tiers, ${sent.traces.length} traces (${sent.spans} spans) sent in ${sendSeconds.toFixed(1)} s ` +
        `(${(sent.spans / sendSeconds).toFixed(0)} spans/s offered by one client; ${sent.failedRequests} refused); ` +
        `sampling share ${values.share} %, 5 % errors, 5 % slow, 5 % ETL jobs.`,
      '',
      '| tier | processes | spans accepted | CPU seconds | spans/s per core |',
      '| --- | --- | --- | --- | --- |',
      ...rows.map(
        (r) =>
          `| ${r.tier} | ${r.processes.length} | ${r.spans} | ${r.cpu.toFixed(1)} | ${(r.spans / r.cpu).toFixed(0)} |`,
      ),
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    const figures: Figure[] = rows.map((r) => ({
      id: `tiers.${r.tier}`,
      figure: `Collector tier ${r.tier}: spans/s per core`,
      ours: r.spans / r.cpu,
      unit: 'spans/s',
      better: 'higher',
    }));
    printFigures(figures);
    return figures;
  } finally {
    await agent.stop();
    await tiers.stop();
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await cli();
