import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { errors } from '../lib/schemas.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry, for plugins that add their own metrics. */
    metricsRegistry: Registry;
  }
}

/** Prometheus metrics on a registry of this app's own (no global state, several apps per process). */
async function metrics(app: FastifyInstance) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  app.decorate('metricsRegistry', registry);
  // The default metrics carry the event loop's delay (nodejs_eventloop_lag_*_seconds, measured
  // since the previous scrape); its utilisation over the same span completes the picture.
  let lastUtilization = performance.eventLoopUtilization();
  new Gauge({
    name: 'nodejs_eventloop_utilization_ratio',
    help: 'Share of the time since the previous scrape the event loop spent busy (0 to 1)',
    registers: [registry],
    collect() {
      const current = performance.eventLoopUtilization();
      this.set(performance.eventLoopUtilization(current, lastUtilization).utilization);
      lastUtilization = current;
    },
  });
  const requests = new RequestSeries();
  registry.registerMetric(requests.counter() as never);
  registry.registerMetric(requests.histogram() as never);

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: ids in paths must not explode the label set.
    requests.record(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });

  app.get(
    '/metrics',
    {
      config: app.rateLimits.none,
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        description:
          'Request counts and latency histograms by route and status, and process metrics.',
        operationId: 'getMetrics',
        produces: ['text/plain'],
        response: {
          200: { description: 'Prometheus text exposition format', type: 'string' },
          ...errors(),
        },
      },
    },
    async (_request, reply) => {
      reply.type(registry.contentType);
      return registry.metrics();
    },
  );
}

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Series {
  labels: { method: string; route: string; status: string };
  count: number;
  sum: number;
  /** Observations per bucket (not cumulative); the last one is above every bound (+Inf). */
  perBucket: number[];
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/**
 * `http_requests_total` (counter) and `http_request_duration_seconds` (histogram, BUCKETS), by
 * method, route pattern and status, kept as one plain record per series and turned into
 * prom-client's values only when /metrics is scraped. The same series and samples as a
 * prom-client Counter and Histogram, without their per-request work (hashing the label object
 * twice, once per metric, on every answer): a request costs a Map lookup and a few additions.
 */
export class RequestSeries {
  readonly #series = new Map<string, Series>();

  record(method: string, route: string, status: number, seconds: number) {
    const key = `${method} ${status} ${route}`;
    let series = this.#series.get(key);
    if (!series) {
      series = {
        labels: { method, route, status: String(status) },
        count: 0,
        sum: 0,
        perBucket: new Array<number>(BUCKETS.length + 1).fill(0),
      };
      this.#series.set(key, series);
    }
    series.count++;
    series.sum += seconds;
    let bucket = 0;
    while (bucket < BUCKETS.length && seconds > (BUCKETS[bucket] as number)) bucket++;
    series.perBucket[bucket] = (series.perBucket[bucket] as number) + 1;
  }

  /** A metric for prom-client's registry (registerMetric): `get()` is read at each scrape. */
  #metric(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) {
    return {
      name,
      help,
      type,
      aggregator: 'sum' as const,
      get: async () => ({ name, help, type, aggregator: 'sum' as const, values: values() }),
      reset: () => this.#series.clear(),
    };
  }

  counter() {
    return this.#metric('http_requests_total', 'HTTP requests by route and status', 'counter', () =>
      [...this.#series.values()].map((series) => ({
        labels: series.labels,
        value: series.count,
      })),
    );
  }

  histogram() {
    const name = 'http_request_duration_seconds';
    return this.#metric(name, 'HTTP request latency by route and status', 'histogram', () =>
      [...this.#series.values()].flatMap((series) => {
        let cumulative = 0;
        const buckets = series.perBucket.map((count, i) => {
          cumulative += count;
          return {
            metricName: `${name}_bucket`,
            labels: { ...series.labels, le: BUCKETS[i] ?? '+Inf' },
            value: cumulative,
          };
        });
        return [
          ...buckets,
          { metricName: `${name}_sum`, labels: series.labels, value: series.sum },
          { metricName: `${name}_count`, labels: series.labels, value: series.count },
        ];
      }),
    );
  }
}

export default fp(metrics, { name: 'metrics', dependencies: ['rate-limits'] });
