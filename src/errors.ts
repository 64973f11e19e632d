/**
 * Domain errors. Core code throws only these; `graphql/format-error.ts` is the one place
 * that maps a `code` to a GraphQL `extensions.code`.
 */
export type DomainErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'MODEL_NOT_READY'
  | 'INVALID_JOB_STATE'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN';

/** Characters of user input quoted in an error message. */
export const MAX_QUOTED_INPUT_CHARS = 40;

/**
 * A piece of user input for an error message: JSON-quoted (control characters escaped) and cut to
 * `max` characters with "…". Messages name the problem; they must not echo megabytes of input back
 * to the client and into the logs.
 */
export function quoteInput(text: string, max = MAX_QUOTED_INPUT_CHARS): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: DomainErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** Input that cannot be accepted (bad structure text, bad argument). */
export class BadInputError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BAD_USER_INPUT', message, details);
  }
}

/** A structure text that fails to parse or validate; `line` is 1-based where known. */
export class StructureParseError extends BadInputError {
  readonly format: string;
  readonly line?: number;
  constructor(format: string, message: string, line?: number) {
    super(line !== undefined ? `${format} line ${line}: ${message}` : `${format}: ${message}`, { format, line });
    this.format = format;
    this.line = line;
  }
}

/**
 * Training produced a NaN/∞ loss or weights. Deterministic for the same data, hyperparameters and
 * seed, so a retry would diverge again: a job that hits it fails for good (not retried).
 */
export class TrainingDivergedError extends BadInputError {
  readonly divergence: TrainingDivergence;
  constructor(message: string, divergence: TrainingDivergence) {
    super(message, { ...divergence });
    this.divergence = divergence;
  }
}

export interface TrainingDivergence {
  epoch: number;
  step?: number;
  /** The non-finite loss. */
  value?: number;
  /** The first variable with a non-finite entry. */
  variable?: string;
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string | number) {
    super('NOT_FOUND', `${what} ${id} not found`, { what, id: String(id) });
  }
}

export class ConflictError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONFLICT', message, details);
  }
}

export class ModelNotReadyError extends DomainError {
  constructor(modelId: string | number, status: string) {
    super('MODEL_NOT_READY', `model ${modelId} is ${status}, not READY`, { modelId: String(modelId), status });
  }
}

/**
 * A READY model whose screening scores were never written (they are written when it is trained,
 * installed or activated, and kept current by label writes; a read never builds them).
 */
export class ScreeningNotReadyError extends DomainError {
  constructor(modelId: string | number) {
    super(
      'MODEL_NOT_READY',
      `model ${modelId} has no screening scores yet: they are written when a model is trained, installed or activated ` +
        `(or by \`ionsieve screen --model ${modelId} --rescore\`)`,
      { modelId: String(modelId), status: 'READY', screening: 'NOT_BUILT' },
    );
  }
}

export class InvalidJobStateError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('INVALID_JOB_STATE', message, details);
  }
}

/** No credentials where they are needed, or credentials that are not valid (unknown, revoked, malformed token). */
export class UnauthenticatedError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('UNAUTHENTICATED', message, details);
  }
}

/** Valid credentials whose role is too low for the operation. */
export class ForbiddenError extends DomainError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('FORBIDDEN', message, details);
  }
}
