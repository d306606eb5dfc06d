import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
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
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, not the URL: ids in paths must not explode the label set.
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
    done();
  });

  app.get(
    '/metrics',
    {
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

export default fp(metrics, { name: 'metrics' });
