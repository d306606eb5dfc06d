import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PUBLISH_JOB, type ReviewsService } from './service.js';

/**
 * The blind reviews' deadline on the durable job queue: scheduled (key = the booking's id) by
 * the first review of a booking, due 14 days after its confirmation, run by any one instance.
 * Idempotent: it publishes only what is still blind, so a second run, or a run after the second
 * review already published both, changes nothing.
 */
async function reviewsTimers(app: FastifyInstance, { reviews }: { reviews: ReviewsService }) {
  app.jobs.define<{ bookingId: string }>({
    name: PUBLISH_JOB,
    async run({ bookingId }, job) {
      await reviews.publishDue(bookingId, job.now);
    },
  });
}

export default fp(reviewsTimers, { name: 'reviews-timers', dependencies: ['jobs'] });
