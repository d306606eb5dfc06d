import { isIP } from 'node:net';
import path from 'node:path';
import type { Config } from '../config.js';

/**
 * What the ready line tells a developer: where the interactive docs are and where mail goes.
 * The SMTP URL's credentials stay out of it.
 */
export function whereToGo(
  config: Pick<Config, 'host' | 'smtpUrl' | 'dataDir'>,
  port: number,
): { docs: string; mail: string } {
  const host = ['0.0.0.0', '127.0.0.1'].includes(config.host)
    ? '127.0.0.1'
    : ['::', '::1'].includes(config.host)
      ? '[::1]'
      : isIP(config.host) === 6
        ? `[${config.host}]`
        : config.host;
  let mail: string;
  if (config.smtpUrl) {
    const smtp = new URL(config.smtpUrl);
    mail = `SMTP ${smtp.hostname}:${smtp.port || (smtp.protocol === 'smtps:' ? 465 : 587)}`;
  } else {
    mail = `outbox folder ${path.join(config.dataDir, 'outbox')} (npm run mail:last shows the newest)`;
  }
  return { docs: `http://${host}:${port}/docs`, mail };
}
