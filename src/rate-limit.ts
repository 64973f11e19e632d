/**
 * Per-client request rate limit on `/graphql` (HTTP requests and graphql-ws operations).
 *
 * The client is the SHA-256 of its bearer token when it sends `Authorization: Bearer …`, else its IP
 * address. Counters live in this process (rate-limiter-flexible's RateLimiterMemory, a fixed window):
 * N API replicas behind a load balancer allow up to N × the limit. A shared store would cost a
 * database write per request, which the read path is built to avoid.
 */
import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { Limits } from './config.js';

export const RATE_LIMITED_CODE = 'RATE_LIMITED';

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one request of `key`. */
  consume(key: string): Promise<RateDecision>;
}

/** The limiter for `limits`, or undefined when `rateLimitPoints` is 0 (disabled). */
export function createRateLimiter(limits: Pick<Limits, 'rateLimitPoints' | 'rateLimitDurationSeconds'>): RateLimiter | undefined {
  if (limits.rateLimitPoints <= 0) return undefined;
  const limiter = new RateLimiterMemory({ points: limits.rateLimitPoints, duration: limits.rateLimitDurationSeconds });
  return {
    async consume(key) {
      try {
        await limiter.consume(key);
        return { allowed: true };
      } catch (rejection) {
        if (!(rejection instanceof RateLimiterRes)) throw rejection;
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
      }
    },
  };
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * `token:<sha256>` for a bearer token (the token itself is never kept), else `ip:<address>`. Prefixed,
 * so a token and an address never share a counter.
 */
export function rateLimitKey(authorization: string | undefined, ip: string | undefined): string {
  const token = authorization ? BEARER.exec(authorization)?.[1] : undefined;
  if (token) return `token:${createHash('sha256').update(token).digest('hex')}`;
  return `ip:${ip ?? 'unknown'}`;
}

/** The GraphQL error of a refused request (over HTTP, the body is `{ errors: [this] }`). */
export function rateLimitedError(requestId: string | undefined, retryAfterSeconds: number) {
  return {
    message: `Too many requests: try again in ${retryAfterSeconds} s`,
    extensions: { code: RATE_LIMITED_CODE, requestId, retryAfterSeconds },
  };
}

/** Express middleware: over the limit → 429 with `Retry-After` and a GraphQL-shaped error. */
export function rateLimitMiddleware(limiter: RateLimiter): RequestHandler {
  return (req, res, next) => {
    limiter.consume(rateLimitKey(req.get('authorization'), req.ip)).then((decision) => {
      if (decision.allowed) return next();
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      res.status(429).json({ errors: [rateLimitedError(res.locals.requestId as string | undefined, decision.retryAfterSeconds)] });
    }, next);
  };
}
