import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MailSealer, mailDeliveryJob } from '../mail/outbox.js';
import { createMailTransport } from '../mail/transport.js';

declare module 'fastify' {
  interface FastifyInstance {
    mail: { sealer: MailSealer };
  }
}

/** Mail is delivered by the job queue's `mail.deliver` job; the transport closes after it stops. */
async function mail(app: FastifyInstance) {
  const sealer = new MailSealer(app.config.mailSealSecret);
  const transport = createMailTransport(app.config, app.log);
  app.jobs.define(
    mailDeliveryJob({
      db: app.db,
      transport,
      sealer,
      clock: app.clock,
      logger: app.log.child({ component: 'mail' }),
    }),
  );
  app.decorate('mail', { sealer });
  // onClose runs after every preClose hook, so after the job worker has stopped.
  app.addHook('onClose', async () => transport.close());
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

export default fp(mail, { name: 'mail', dependencies: ['startup', 'jobs'] });
