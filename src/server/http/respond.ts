import type { ServerResponse } from 'node:http';
import { ErrorCodes, RelayHttpError, type ErrorCode } from '../../protocol/index.js';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

/** Answers `{"error": {code, message}}` with the error's status. */
export function sendError(
  res: ServerResponse,
  error: RelayHttpError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } }, headers);
}

export function httpError(status: number, code: ErrorCode, message: string): RelayHttpError {
  return new RelayHttpError(status, code, message);
}

export const badRequest = (message: string) => httpError(400, ErrorCodes.badRequest, message);
