import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ErrorCodes, RelayError } from '../protocol/index.js';
import type { TlsFiles } from './RelayServer.js';

/**
 * Reads a PEM certificate chain and its private key for `listen({ tls })`, and checks that
 * they load and belong together, so a wrong file is reported at start (or at a reload) rather
 * than as failed handshakes. Both paths or neither: undefined when neither is given.
 */
export function readTlsFiles(
  certPath: string | undefined,
  keyPath: string | undefined,
): TlsFiles | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new RelayError(
      ErrorCodes.badRequest,
      'TLS needs both --tls-cert (the certificate chain, PEM) and --tls-key (its private key).',
    );
  }
  const tls = { cert: read(certPath, '--tls-cert'), key: read(keyPath, '--tls-key') };
  try {
    createSecureContext(tls);
  } catch (error) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `--tls-cert ${certPath} and --tls-key ${keyPath} do not load as a PEM certificate and ` +
        `its private key (${(error as Error).message}). Give the full chain and the key it was issued for.`,
    );
  }
  return tls;
}

function read(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new RelayError(
      ErrorCodes.badRequest,
      `${flag} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). ` +
        'Check the path and that the Relay may read it.',
    );
  }
}
