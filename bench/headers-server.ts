import { pathToFileURL } from 'node:url';
import Fastify, { type FastifyPluginAsync } from 'fastify';

/**
 * A bare route with security headers done three ways, to price them: HEADERS=none (nothing),
 * HEADERS=homefront (the app's own onRequest hook, imported from the compiled dist/) and
 * HEADERS=helmet (@fastify/helmet with its defaults).
 */

const port = Number(process.env.PORT ?? 3998);
const mode = process.env.HEADERS ?? 'none';
const app = Fastify({ logger: false });

if (mode === 'homefront') {
  const file = pathToFileURL(
    `${process.env.BENCH_ROOT ?? process.cwd()}/dist/plugins/security-headers.js`,
  ).href;
  const plugin = (await import(file)) as { default: FastifyPluginAsync };
  await app.register(plugin.default);
} else if (mode === 'helmet') {
  const { default: helmet } = await import('@fastify/helmet');
  await app.register(helmet);
} else if (mode !== 'none') {
  throw new Error(`HEADERS must be none, homefront or helmet, got "${mode}"`);
}

app.get('/bench', async () => ({ status: 'ok' }));
app.get('/health/ready', async () => ({ status: 'ok' }));

process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
process.on('SIGINT', () => void app.close().then(() => process.exit(0)));

await app.listen({ port, host: '127.0.0.1' });
