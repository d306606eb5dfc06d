import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * A real SMTP server on a loopback port; the app under test delivers to it over SMTP.
 * Tests wait for mail with `next(to)`: it resolves when the message arrives (no polling, no sleep).
 */
export class Mailbox {
  readonly received: ReceivedMail[] = [];
  /** Every RCPT TO the server accepted, as sent: the mailboxes a message really went to. */
  readonly envelopeRecipients: string[] = [];
  private waiters: Array<{ to: string; resolve: (mail: ReceivedMail) => void }> = [];
  private taken = new Set<ReceivedMail>();
  private server: SMTPServer;
  private stopped = false;
  port = 0;

  constructor() {
    this.server = this.createServer();
  }

  /** A closed smtp-server cannot listen again (it keeps answering 421), so each start builds one. */
  private createServer(): SMTPServer {
    return new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        for (const rcpt of session.envelope.rcptTo) this.envelopeRecipients.push(rcpt.address);
        simpleParser(stream)
          .then((parsed) => {
            this.deliver(toMail(parsed));
            callback();
          })
          .catch(callback);
      },
    });
  }

  async start(port = 0): Promise<void> {
    if (this.stopped) this.server = this.createServer();
    this.stopped = false;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.server.server.address();
    if (address && typeof address === 'object') this.port = address.port;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The oldest mail to `to` not yet taken, waiting for it if it has not arrived. */
  next(to: string): Promise<ReceivedMail> {
    const address = to.toLowerCase();
    const waiting = this.received.find((mail) => mail.to === address && !this.taken.has(mail));
    if (waiting) {
      this.taken.add(waiting);
      return Promise.resolve(waiting);
    }
    return new Promise((resolve) => this.waiters.push({ to: address, resolve }));
  }

  to(address: string): ReceivedMail[] {
    return this.received.filter((mail) => mail.to === address.toLowerCase());
  }

  private deliver(mail: ReceivedMail) {
    this.received.push(mail);
    const index = this.waiters.findIndex((waiter) => waiter.to === mail.to);
    if (index >= 0) {
      const [waiter] = this.waiters.splice(index, 1);
      this.taken.add(mail);
      waiter?.resolve(mail);
    }
  }
}

function toMail(parsed: ParsedMail): ReceivedMail {
  const to = Array.isArray(parsed.to) ? parsed.to[0] : parsed.to;
  return {
    to: (to?.value[0]?.address ?? '').toLowerCase(),
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
  };
}

/** The token of the first `/verify-email?token=` or `/reset-password?token=` link in a mail. */
export function tokenFrom(mail: ReceivedMail): string {
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error(`no token link in mail "${mail.subject}"`);
  return match[1];
}
