import {
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  Scopes,
  type Scope,
} from '../../protocol/index.js';

/**
 * Everything a session may try that needs a scope. The one place scopes are
 * checked: new capabilities (conference, supervisor) add a row here.
 */
const REQUIRED_SCOPE = {
  dial: Scopes.dial,
  receive: Scopes.receive,
} as const satisfies Record<string, Scope>;

export type Action = keyof typeof REQUIRED_SCOPE;

export function can(scopes: readonly Scope[], action: Action): boolean {
  return scopes.includes(REQUIRED_SCOPE[action]);
}

/** Throws `forbidden` unless the scopes allow the action. */
export function authorize(scopes: readonly Scope[], action: Action): void {
  if (!can(scopes, action)) {
    throw new RelayRpcError(
      RpcErrorCodes.forbidden,
      ErrorCodes.forbidden,
      `This token lacks the "${REQUIRED_SCOPE[action]}" scope. Issue the token with that scope to ${action}.`,
    );
  }
}
