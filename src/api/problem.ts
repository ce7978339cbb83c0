import type { FastifyReply } from 'fastify';

/** RFC 9457 problem details; `errors` lists each offending field so a client can point at it. */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { field: string; message: string }[];
}

export class HttpProblem extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ?? problem.title);
    this.problem = problem;
  }
}

export const notFound = (detail: string) => new HttpProblem({ title: 'Not Found', status: 404, detail });
export const conflict = (detail: string) => new HttpProblem({ title: 'Conflict', status: 409, detail });
export const badRequest = (detail: string, errors?: Problem['errors']) => new HttpProblem({ title: 'Bad Request', status: 400, detail, errors });

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send({ type: problem.type ?? 'about:blank', ...problem });
}

export const problemSchema = {
  $id: 'Problem',
  type: 'object',
  description: 'RFC 9457 problem details (media type application/problem+json)',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } }, required: ['field', 'message'] } },
  },
  required: ['title', 'status'],
} as const;
