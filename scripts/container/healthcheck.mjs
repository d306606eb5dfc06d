// Container health check (Dockerfile HEALTHCHECK, docker-compose.yml healthcheck): exits 0 when
// GET /health/ready answers 200, 1 otherwise. Uses Node's own fetch because the slim base image has
// no curl or wget. Readiness (not liveness) is checked, so "healthy" means the database answers and
// every migration is applied.

const port = process.env.PORT || '3000';
// The server listens on HOST; a wildcard address is reachable on loopback.
const configured = process.env.HOST;
const host =
  !configured || configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/health/ready`;

try {
  // Shorter than the HEALTHCHECK timeout, so a hung server fails the check instead of the runtime
  // killing it.
  const response = await fetch(url, { signal: AbortSignal.timeout(4_000) });
  if (response.ok) process.exit(0);
  process.stderr.write(`health check: ${url} answered ${response.status}\n`);
} catch (error) {
  process.stderr.write(`health check: ${url} failed: ${error?.cause?.code ?? error?.message}\n`);
}
process.exit(1);
