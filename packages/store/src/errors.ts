/** One error class per failure mode of the store; the api maps each to a Personium code in one place. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class InvalidNameError extends StoreError {}
export class InvalidPathError extends StoreError {}
export class CellExistsError extends StoreError {}
export class CellNotFoundError extends StoreError {}
export class NotFoundError extends StoreError {}
export class AlreadyExistsError extends StoreError {}
export class ConflictError extends StoreError {}
export class PreconditionFailedError extends StoreError {}
export class TooLargeError extends StoreError {}
/** A byte range outside the file (HTTP 416); the file's size is in `size`. */
export class RangeNotSatisfiableError extends StoreError {
  constructor(
    message: string,
    readonly size: number,
  ) {
    super(message);
  }
}

/**
 * The StoreError a store thread reported by name, made again on this side of the
 * message (structured clone keeps neither class nor fields). Null for any other name.
 */
export function reviveStoreError(name: string, message: string): StoreError | null {
  const classes: Record<string, new (message: string) => StoreError> = {
    InvalidNameError,
    InvalidPathError,
    CellExistsError,
    CellNotFoundError,
    NotFoundError,
    AlreadyExistsError,
    ConflictError,
    PreconditionFailedError,
    TooLargeError,
  };
  const ErrorClass = classes[name];
  return ErrorClass ? new ErrorClass(message) : null;
}
