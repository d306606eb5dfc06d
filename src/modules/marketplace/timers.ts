import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { MarketplaceService } from './service.js';
import type { TimerName } from './transitions.js';

const TIMERS: TimerName[] = ['request.expire', 'quote.expire', 'booking.autoconfirm'];

/**
 * The marketplace's timed transitions on the durable job queue: scheduled (key = the row's id)
 * by the transition that starts the wait, run at their time by any one instance, retried with the
 * queue's backoff. Idempotent: the transition is a compare-and-set, so a second run, or a run
 * after the row moved on (a request booked before it expired), changes nothing.
 */
async function marketplaceTimers(
  app: FastifyInstance,
  { marketplace }: { marketplace: MarketplaceService },
) {
  for (const timer of TIMERS) {
    app.jobs.define<{ id: string }>({
      name: `marketplace.${timer}`,
      async run({ id }, job) {
        await marketplace.runTimer(timer, id, job.now);
      },
    });
  }
}

export default fp(marketplaceTimers, { name: 'marketplace-timers', dependencies: ['jobs'] });
