import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { and, count, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { auditEvents } from '../../src/db/schema.js';
import { type AuditType, recordAudit } from '../../src/kernel/audit.js';
import { callerOf } from '../../src/kernel/guards.js';
import { notFound } from '../../src/lib/errors.js';
import { requestContext } from '../../src/lib/request-context.js';
import { errors, Uuid } from '../../src/lib/schemas.js';
import type { TestContext } from '../helpers/app.js';

/**
 * A test-only creating route that honours Idempotency-Key: each run writes one audit row (the
 * effect, counted in the database) in a transaction, and answers 201 with a Location. A body can
 * ask for a 404, for a 500 the first time its text is seen, or to wait at a gate the test opens.
 */
export const NOTE_EVENT = 'test.note_created' as AuditType;

const NoteInput = Type.Object(
  {
    text: Type.String({ minLength: 1, maxLength: 200 }),
    tags: Type.Optional(Type.Array(Type.String({ maxLength: 20 }), { maxItems: 5 })),
    outcome: Type.Optional(Type.Union([Type.Literal('missing'), Type.Literal('flaky')])),
    wait: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const Note = Type.Object({ id: Uuid, text: Type.String() }, { additionalProperties: false });

export interface NoteRoutes {
  /** Handler runs so far, effect or not. */
  runs: number;
  /** Resolves the handlers waiting at the gate (`wait: true`). */
  openGate(): void;
}

export function noteRoutes(): { state: NoteRoutes; register(app: FastifyInstance): void } {
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  const flaky = new Set<string>();
  const state: NoteRoutes = {
    runs: 0,
    openGate() {
      open();
      gate = Promise.resolve();
    },
  };
  function register(root: FastifyInstance) {
    const app = root.withTypeProvider<TypeBoxTypeProvider>();
    for (const url of ['/test/notes', '/test/other-notes']) {
      app.post(
        url,
        {
          onRequest: app.requireUser,
          config: { idempotent: true },
          schema: {
            operationId: url === '/test/notes' ? 'testCreateNote' : 'testCreateOtherNote',
            body: NoteInput,
            response: { 201: Note, ...errors(401, 403, 404) },
          },
        },
        async (request, reply) => {
          state.runs++;
          const { text, outcome, wait } = request.body;
          if (wait) await gate;
          if (outcome === 'missing') throw notFound('No such note book.');
          if (outcome === 'flaky' && !flaky.has(text)) {
            flaky.add(text);
            throw new Error('the first run of a flaky note fails');
          }
          const caller = callerOf(request);
          const id = crypto.randomUUID();
          await app.db.transaction((tx) =>
            recordAudit(tx, request.log, requestContext(request), {
              type: NOTE_EVENT,
              actorId: caller.id,
              subjectId: caller.id,
              data: { noteId: id, text },
            }),
          );
          return reply.code(201).header('location', `/test/notes/${id}`).send({ id, text });
        },
      );
    }
  }
  return { state, register };
}

/** The effect: how many notes a user's requests created. */
export async function notesOf(t: TestContext, userId: string): Promise<number> {
  const [row] = await t.app.db
    .select({ n: count() })
    .from(auditEvents)
    .where(and(eq(auditEvents.type, NOTE_EVENT), eq(auditEvents.actorId, userId)));
  return row?.n ?? 0;
}
