/**
 * Per-client request rate limit on `/graphql` (HTTP requests and graphql-ws operations).
 *
 * The client is the SHA-256 of its bearer token when it sends `Authorization: Bearer …`, else its IP
 * address (X-Forwarded-For counts only from proxies trusted by `IONSIEVE_TRUST_PROXY`); tokens that
 * fail authentication are also counted per IP, see `consumeForClient`. Counters live in this
 * process (rate-limiter-flexible's RateLimiterMemory, a fixed window): N API replicas behind a
 * load balancer allow up to N × the limit. A shared store would cost a database write per request,
 * which the read path is built to avoid.
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
  /** The decision for `key` without counting a request (refused when its budget is spent). */
  peek(key: string): Promise<RateDecision>;
}

/**
 * Counts one request of a client: against its token's budget when it presents a bearer token,
 * else against its IP's. Tokens that fail authentication are counted per IP too
 * (`chargeFailedAuthentication`), and an IP out of that budget is refused whatever token it
 * presents: otherwise made-up tokens, each a fresh budget, would escape the limit.
 */
export async function consumeForClient(limiter: RateLimiter, authorization: string | undefined, ip: string | undefined): Promise<RateDecision> {
  const key = rateLimitKey(authorization, ip);
  if (key.startsWith('token:')) {
    const failures = await limiter.peek(failedAuthenticationKey(ip));
    if (!failures.allowed) return failures;
  }
  return limiter.consume(key);
}

/** A presented token failed authentication: counted against its IP's failure budget. */
export async function chargeFailedAuthentication(limiter: RateLimiter | undefined, ip: string | undefined): Promise<void> {
  await limiter?.consume(failedAuthenticationKey(ip));
}

function failedAuthenticationKey(ip: string | undefined): string {
  return `auth-failures:${ip ?? 'unknown'}`;
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
    async peek(key) {
      const state = await limiter.get(key);
      if (!state || state.remainingPoints > 0) return { allowed: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(state.msBeforeNext / 1000)) };
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
    consumeForClient(limiter, req.get('authorization'), req.ip).then((decision) => {
      if (decision.allowed) return next();
      res.setHeader('Retry-After', String(decision.retryAfterSeconds));
      res.status(429).json({ errors: [rateLimitedError(res.locals.requestId as string | undefined, decision.retryAfterSeconds)] });
    }, next);
  };
}
