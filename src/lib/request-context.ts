import type { FastifyRequest } from 'fastify';

/** What a flow needs to know about the request it serves: for sessions and the audit trail. */
export interface RequestContext {
  ip: string;
  requestId: string;
  userAgent: string | null;
}

export function requestContext(request: FastifyRequest): RequestContext {
  const agent = request.headers['user-agent'];
  return {
    ip: request.ip,
    requestId: request.id,
    userAgent: typeof agent === 'string' ? agent.slice(0, 512) : null,
  };
}
