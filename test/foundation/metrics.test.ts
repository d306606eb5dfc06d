import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltApp, buildAppWith } from './support.js';

let t: BuiltApp;
let text: string;
let contentType: string;
/** Wall time of the three /test/things requests: the most their latencies can add up to. */
let thingsWallSeconds: number;

beforeAll(async () => {
  t = await buildAppWith((app) => {
    app.get('/test/things/:id', async (request) => ({ id: (request.params as { id: string }).id }));
  });
  const started = performance.now();
  for (const id of ['7f1c0c1e-aaaa', 'second-thing', 'third-thing']) {
    expect((await t.app.inject({ url: `/test/things/${id}` })).statusCode).toBe(200);
  }
  thingsWallSeconds = (performance.now() - started) / 1000;
  await t.app.inject({ url: '/health/live' });
  await t.app.inject({ url: '/no/such/route/123' });
  const res = await t.app.inject({ url: '/metrics' });
  expect(res.statusCode).toBe(200);
  text = res.body;
  contentType = String(res.headers['content-type']);
});
afterAll(() => t?.close());

/** The value of one sample line, e.g. `http_requests_total{method="GET",...} 3`. */
function sample(name: string, labels: Record<string, string>): number | undefined {
  const line = text.split('\n').find((candidate) => {
    if (!candidate.startsWith(`${name}{`)) return false;
    return Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('GET /metrics', () => {
  it('answers in the Prometheus text exposition format', () => {
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain('# TYPE http_requests_total counter');
    expect(text).toContain('# TYPE http_request_duration_seconds histogram');
  });

  it('counts requests by method, route pattern and status', () => {
    expect(
      sample('http_requests_total', { method: 'GET', route: '/test/things/:id', status: '200' }),
    ).toBe(3);
    expect(
      sample('http_requests_total', { method: 'GET', route: '/health/live', status: '200' }),
    ).toBe(1);
  });

  it('labels by route pattern, never by raw URL (ids do not explode the label set)', () => {
    expect(text).not.toContain('second-thing');
    expect(text).not.toContain('7f1c0c1e');
    expect(text).not.toContain('/no/such/route');
  });

  it('counts unmatched requests under one label, with their 404 status', () => {
    const unmatched = text
      .split('\n')
      .filter((line) => line.startsWith('http_requests_total{') && line.includes('status="404"'));
    expect(unmatched).toHaveLength(1);
  });

  it('has a latency histogram by route pattern and status', () => {
    const labels = { method: 'GET', route: '/test/things/:id', status: '200' };
    expect(sample('http_request_duration_seconds_count', labels)).toBe(3);
    expect(sample('http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(3);
    // Each request took some time, and no more than the test spent waiting for all three.
    const sum = sample('http_request_duration_seconds_sum', labels);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThanOrEqual(thingsWallSeconds);
  });

  it('includes process metrics', () => {
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('keeps each app’s metrics to itself (a second app starts from zero)', async () => {
    const other = await buildAppWith(() => {});
    try {
      const res = await other.app.inject({ url: '/metrics' });
      expect(res.body).not.toContain('/test/things/:id');
    } finally {
      await other.close();
    }
  });
});
