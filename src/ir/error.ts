// Every user-facing failure is an AicError: a stable code that tests and scripts match on, a message
// that names the file / node / op, and an optional hint. The CLI prints it as one line.

export type ErrorCode =
  | 'E_IO' // a file cannot be read or written
  | 'E_PROTO' // the bytes are not a valid protobuf / npy / model
  | 'E_MODEL' // a model is structurally wrong (cycle, undefined input, bad initializer)
  | 'E_UNSUPPORTED' // an op, dtype, attribute or feature aic does not handle yet
  | 'E_TYPE' // type or shape inference failed
  | 'E_VERIFY' // the IR verifier found a broken rule
  | 'E_PARSE' // IR text does not parse
  | 'E_LIMIT' // a size beyond what aic will allocate
  | 'E_RUNTIME' // evaluation failed (bad index, shape mismatch at run time)
  | 'E_MISMATCH' // results differ from the expected ones
  | 'E_BUILD' // an external toolchain (g++, ptxas) failed
  | 'E_USAGE'; // the command line is wrong

export class AicError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'AicError';
    this.code = code;
    this.hint = hint;
  }

  /** Prefix the message with where it happened (a file, a node), keeping code and hint. */
  withContext(where: string): AicError {
    return new AicError(this.code, `${this.message} (${where})`, this.hint);
  }
}

export function fail(code: ErrorCode, message: string, hint?: string): never {
  throw new AicError(code, message, hint);
}

export function isAicError(e: unknown): e is AicError {
  return e instanceof AicError;
}
