import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { describeDatabaseFailure } from '../db/failures.js';
import {
  AppError,
  codeForStatus,
  type FieldError,
  isDatabaseUnavailable,
  PG_CHARACTER_NOT_IN_REPERTOIRE,
  PG_CHECK_VIOLATION,
  PG_FOREIGN_KEY_VIOLATION,
  PG_INVALID_TEXT,
  PG_TRANSIENT,
  PG_UNIQUE_VIOLATION,
  pgErrorCode,
  serviceUnavailable,
} from '../lib/errors.js';
import { type ProblemBody, problemTitle, problemType } from '../lib/schemas.js';

interface ValidationIssue {
  instancePath: string;
  message?: string;
  keyword: string;
  params: Record<string, unknown>;
}

const SHAPE_KEYWORDS = new Set(['required', 'additionalProperties', 'anyOf', 'oneOf']);

/**
 * A union (the login body: JSON or form) reports every branch's failures. When one branch got as
 * far as a field's value, that is what the client got wrong; the other branches' missing fields
 * would only confuse it.
 */
function relevant(issues: ValidationIssue[]): ValidationIssue[] {
  if (!issues.some((issue) => issue.keyword === 'anyOf' || issue.keyword === 'oneOf'))
    return issues;
  const specific = issues.filter((issue) => !SHAPE_KEYWORDS.has(issue.keyword));
  return specific.length > 0 ? specific : issues;
}

function fieldErrors(context: string | undefined, issues: ValidationIssue[]): FieldError[] {
  // An `if` failure only says which branch failed; the branch's own failures name the field.
  const named = relevant(issues).filter((issue) => issue.keyword !== 'if');
  return named.slice(0, 20).map((issue) => {
    let path = issue.instancePath;
    let message = issue.message ?? 'is invalid';
    if (issue.keyword === 'additionalProperties') {
      path += `/${String(issue.params.additionalProperty)}`;
      message = 'is not an allowed field';
    } else if (issue.keyword === 'required') {
      path += `/${String(issue.params.missingProperty)}`;
      message = 'is required';
    }
    return { path: `/${context ?? 'body'}${path}`, message };
  });
}

/** Translates anything thrown into the AppError the client will see. */
export function toAppError(error: FastifyError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validationContext?: string };

  if (fastifyError.validation) {
    return new AppError(
      400,
      'validation_failed',
      'The request is not valid.',
      fieldErrors(fastifyError.validationContext, fastifyError.validation as ValidationIssue[]),
    );
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError(400, 'validation_failed', 'The request body is not valid JSON.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      if (fastifyError.statusCode === 415) {
        return new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
      }
      break;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError(413, 'payload_too_large', 'The request body is too large.');
  }
  if (error.name === 'SyntaxError' && fastifyError.statusCode === 400) {
    return new AppError(400, 'validation_failed', 'The request body is not valid JSON.');
  }
  if (fastifyError.statusCode === 413) {
    return new AppError(413, 'payload_too_large', 'The request body is too large.');
  }
  if (fastifyError.statusCode === 415) {
    return new AppError(415, 'unsupported_media_type', 'Send the body as application/json.');
  }

  const pgCode = pgErrorCode(error);
  if (pgCode === PG_UNIQUE_VIOLATION || pgCode === PG_FOREIGN_KEY_VIOLATION) {
    return new AppError(409, 'conflict', 'The change conflicts with the current state.');
  }
  // The last line behind request validation: text PostgreSQL cannot take is the client's input.
  if (
    pgCode === PG_CHECK_VIOLATION ||
    pgCode === PG_INVALID_TEXT ||
    pgCode === PG_CHARACTER_NOT_IN_REPERTOIRE
  ) {
    return new AppError(400, 'validation_failed', 'The request is not valid.');
  }
  if (pgCode !== undefined && PG_TRANSIENT.has(pgCode)) {
    return serviceUnavailable('The data is busy with another change; try again shortly.');
  }
  if (isDatabaseUnavailable(error)) {
    return new AppError(
      503,
      'service_unavailable',
      'The database is unavailable; try again shortly.',
      undefined,
      {
        'retry-after': '1',
      },
    );
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return new AppError(status, codeForStatus(status), 'The request could not be processed.');
  }
  return new AppError(500, 'internal_error', 'An unexpected error occurred.');
}

/**
 * toAppError, and the log line every failed request gets: unexpected errors with their stack,
 * the rest as one line. Shared by every renderer of errors (problem+json here, the HTML pages).
 */
export function toLoggedAppError(error: FastifyError | Error, request: FastifyRequest): AppError {
  const problem = toAppError(error);
  if (problem.statusCode === 503 && isDatabaseUnavailable(error)) {
    // An outage answers every request alike: one line naming the cause each, not a stack.
    request.log.warn({ cause: describeDatabaseFailure(error) }, 'database unavailable');
  } else if (problem.statusCode === 503 && PG_TRANSIENT.has(pgErrorCode(error) ?? '')) {
    request.log.warn({ cause: describeDatabaseFailure(error) }, 'database contention');
  } else if (problem.statusCode >= 500 && !(error instanceof AppError)) {
    request.log.error({ err: error }, 'request failed');
  } else if (problem.statusCode >= 500) {
    request.log.warn({ code: problem.code, detail: problem.detail }, 'request failed');
  } else {
    request.log.info({ code: problem.code, status: problem.statusCode }, 'request rejected');
  }
  return problem;
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  const body: ProblemBody & Record<string, unknown> = {
    ...error.extensions,
    type: problemType(error.code),
    title: problemTitle(error.code),
    status: error.statusCode,
    detail: error.detail,
    code: error.code,
    requestId: request.id,
  };
  if (error.errors) body.errors = error.errors;
  if (error.headers) reply.headers(error.headers);
  // Every 401 carries a challenge (RFC 9110 §11.6.1), even one a library raised without it.
  if (error.statusCode === 401 && !reply.hasHeader('www-authenticate')) {
    reply.header('www-authenticate', 'Bearer');
  }
  return reply.code(error.statusCode).type('application/problem+json').send(body);
}

async function errorsPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendProblem(request, reply, toLoggedAppError(error, request)),
  );

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const allow = allowedMethods(app, path);
    if (allow.length > 0) {
      return sendProblem(
        request,
        reply,
        new AppError(
          405,
          'method_not_allowed',
          `${request.method.slice(0, 20)} is not allowed here; use ${allow.join(', ')}.`,
          undefined,
          { allow: allow.join(', ') },
        ),
      );
    }
    return sendProblem(
      request,
      reply,
      new AppError(404, 'not_found', `No route for ${request.method} ${path.slice(0, 200)}.`),
    );
  });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods a known path answers: a 405 with Allow tells a client its method was the mistake. */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  return METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
}

export default fp(errorsPlugin, { name: 'errors' });
