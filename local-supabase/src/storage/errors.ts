// Storage's error bodies. Supabase Storage answers almost every failure with HTTP 400 and puts the
// semantic status in the body as a string, which storage-js surfaces as `error.statusCode`.

export class StorageError extends Error {
  constructor(
    readonly statusCode: string,
    readonly code: string,
    readonly error: string,
    message: string,
    /** The HTTP status; 400 except where Supabase itself deviates (unknown routes, internal errors). */
    readonly httpStatus = 400,
  ) {
    super(message);
  }

  body() {
    return { statusCode: this.statusCode, code: this.code, error: this.error, message: this.message };
  }
}

export const noSuchBucket = () => new StorageError('404', 'NoSuchBucket', 'Bucket not found', 'Bucket not found');
export const noSuchKey = () => new StorageError('404', 'NoSuchKey', 'not_found', 'Object not found');
export const invalidKey = (key: string) => new StorageError('400', 'InvalidKey', 'InvalidKey', `Invalid key: ${key}`);
export const accessDenied = (message: string) => new StorageError('403', 'AccessDenied', 'Unauthorized', message);
export const rlsDenied = () => accessDenied('new row violates row-level security policy');
export const entityTooLarge = () =>
  new StorageError('413', 'EntityTooLarge', 'Payload too large', 'The object exceeded the maximum allowed size');
export const invalidMimeType = (mimeType: string) =>
  new StorageError('415', 'InvalidMimeType', 'invalid_mime_type', `mime type ${mimeType} is not supported`);
export const keyAlreadyExists = () => new StorageError('409', 'KeyAlreadyExists', 'Duplicate', 'The resource already exists');
export const invalidJwt = (message: string) => new StorageError('400', 'InvalidJWT', 'Unauthorized', message);
export const invalidSignature = () => new StorageError('400', 'InvalidSignature', 'Unauthorized', 'The url do not match the signature');
export const invalidRequest = (message: string) => new StorageError('400', 'InvalidRequest', 'Bad Request', message);
export const routeNotFound = (method: string, path: string) =>
  new StorageError('404', 'NotFound', 'Not Found', `Route ${method}:${path} not found`, 404);
export const internalError = () => new StorageError('500', 'InternalError', 'Internal Server Error', 'Internal Server Error', 500);
