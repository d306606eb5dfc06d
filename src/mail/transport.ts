import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyBaseLogger as Logger } from 'fastify';
import type { Transporter } from 'nodemailer';
import type { Config } from '../config.js';

export interface OutgoingMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  link?: string;
}

export interface MailTransport {
  readonly kind: 'smtp' | 'outbox-folder';
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

/**
 * nodemailer parses a string recipient as a list with display names (`x,v@d` is two mailboxes,
 * `x<v@d>` is v@d); an address object is taken as the one mailbox it names.
 */
const recipient = (address: string) => ({ name: '', address });

/**
 * nodemailer is loaded with the first mail, not at start: most processes of a running service
 * send none for a long while, and it is a few MB of an idle server's memory.
 */
function lazily(create: (mailer: typeof import('nodemailer')) => Transporter) {
  let transporter: Promise<Transporter> | undefined;
  return {
    get: () => {
      transporter ??= import('nodemailer').then((module) => create(module.default));
      return transporter;
    },
    close: () => void transporter?.then((created) => created.close()),
  };
}

/** SMTP_URL set: real mail through nodemailer. */
function smtpTransport(config: Config): MailTransport {
  const transporter = lazily((mailer) =>
    mailer.createTransport(config.smtpUrl, {
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000,
    }),
  );
  return {
    kind: 'smtp',
    async send(mail) {
      await (await transporter.get()).sendMail({
        from: config.mailFrom,
        to: recipient(mail.to),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: `<${mail.id}@homefront>`,
      });
    },
    close: transporter.close,
  };
}

/**
 * No SMTP: each mail becomes an .eml file under DATA_DIR/outbox and a log line with its link,
 * so a developer can verify an account from the terminal. Only in this mode is a link logged.
 */
function folderTransport(config: Config, logger: Logger): MailTransport {
  const folder = path.join(config.dataDir, 'outbox');
  const builder = lazily((mailer) =>
    mailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' }),
  );
  return {
    kind: 'outbox-folder',
    async send(mail) {
      const info = await (await builder.get()).sendMail({
        from: config.mailFrom,
        to: recipient(mail.to),
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
      await mkdir(folder, { recursive: true });
      const file = path.join(folder, `${mail.id}.eml`);
      await writeFile(file, info.message as Buffer, { mode: 0o600 });
      // The link is the mail channel of a development setup; never log live tokens in production.
      const link = config.nodeEnv === 'production' ? undefined : mail.link;
      logger.info(
        { to: mail.to, subject: mail.subject, link, file },
        'mail written to outbox folder',
      );
    },
    close: builder.close,
  };
}

export function createMailTransport(config: Config, logger: Logger): MailTransport {
  return config.smtpUrl ? smtpTransport(config) : folderTransport(config, logger);
}
