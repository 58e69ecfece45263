import type { IncomingMessage } from 'node:http';
import { ErrorCodes, isPlainObject } from '../../protocol/index.js';
import { badRequest, httpError } from './respond.js';

/**
 * Reads a request's JSON object body. A request without a body (and without a
 * content type) gives `{}`. The size limit is enforced from Content-Length
 * before reading, and again while streaming, so nothing over it is buffered.
 */
export async function readJsonBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<Record<string, unknown>> {
  const declared = req.headers['content-length'];
  const length = declared === undefined ? undefined : Number(declared);
  if (length !== undefined && length > maxBytes) throw tooLarge(maxBytes);
  const hasBody =
    (length !== undefined && length > 0) || req.headers['transfer-encoding'] !== undefined;
  const type = req.headers['content-type'];
  if (!hasBody && (type === undefined || isJsonType(type))) return {};
  if (type === undefined || !isJsonType(type)) {
    // A chunked request without a content type may still be bare: an empty body is no body.
    if (type === undefined && length === undefined && (await readLimited(req, maxBytes)) === '') {
      return {};
    }
    throw httpError(
      415,
      ErrorCodes.unsupportedMediaType,
      'The request body must be JSON: send it with Content-Type: application/json.',
    );
  }
  const text = await readLimited(req, maxBytes);
  if (text.trim() === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw httpError(
      400,
      ErrorCodes.invalidJson,
      'The request body is not valid JSON. Fix its syntax.',
    );
  }
  if (!isPlainObject(body)) throw badRequest('The request body must be a JSON object.');
  return body;
}

function isJsonType(type: string): boolean {
  const essence = type.split(';')[0]?.trim().toLowerCase() ?? '';
  return essence === 'application/json' || /^application\/[\w.+-]+\+json$/.test(essence);
}

function tooLarge(maxBytes: number) {
  return httpError(
    413,
    ErrorCodes.payloadTooLarge,
    `The request body is larger than ${maxBytes} bytes. Send a smaller body.`,
  );
}

function readLimited(req: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // Stop reading; the response closes the connection.
        req.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
