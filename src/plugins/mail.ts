import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MailSealer, MailWorker } from '../mail/outbox.js';
import { createMailTransport } from '../mail/transport.js';

declare module 'fastify' {
  interface FastifyInstance {
    mail: { worker: MailWorker; sealer: MailSealer };
  }
}

/** The outbox worker delivers once migrations are applied, and drains before the pool closes. */
async function mail(app: FastifyInstance) {
  const sealer = new MailSealer(app.config.jwtSecret);
  const transport = createMailTransport(app.config, app.log);
  const worker = new MailWorker(
    app.db,
    transport,
    sealer,
    app.clock,
    app.log.child({ component: 'mail' }),
  );
  app.decorate('mail', { worker, sealer });
  app.onDatabaseReady(async () => worker.start());
  app.addHook('preClose', async () => {
    await worker.stop();
  });
  app.log.info({ transport: transport.kind }, 'mail transport configured');
  if (transport.kind === 'outbox-folder' && app.config.nodeEnv === 'production') {
    app.log.warn(
      'no SMTP_URL in production: mail is only written to DATA_DIR/outbox, nobody receives it',
    );
  }
  if (app.config.linkPages === 'api' && app.config.nodeEnv === 'production') {
    app.log.warn(
      { links: app.config.publicAppUrl },
      'no PUBLIC_APP_URL in production: the links in mails point at this address',
    );
  }
}

export default fp(mail, { name: 'mail', dependencies: ['startup'] });
