import { ErrorCodes, RelayError } from '../protocol/index.js';

/** Error codes of the React layer, in addition to the core's `ErrorCodes`. Never renamed. */
export const ReactErrorCodes = {
  /** A relaycall hook was used outside `<RelayProvider>`. */
  missingProvider: ErrorCodes.missingProvider,
} as const;

export type ReactErrorCode = (typeof ReactErrorCodes)[keyof typeof ReactErrorCodes];

/**
 * Thrown by a relaycall hook rendered outside `<RelayProvider>`. Its `code` is
 * `'missing_provider'` and `hook` names the hook that was called.
 */
export class MissingProviderError extends RelayError {
  /** The hook that was called, e.g. `'useCall'`. */
  readonly hook: string;

  constructor(hook: string) {
    super(
      ErrorCodes.missingProvider,
      `${hook} must be used inside <RelayProvider>: wrap your app in <RelayProvider fetchToken={…} url={…}>.`,
    );
    this.name = 'MissingProviderError';
    this.hook = hook;
  }
}
