import {
  ErrorCodes,
  RelayRpcError,
  RpcErrorCodes,
  Scopes,
  type Scope,
} from '../../protocol/index.js';

/**
 * Everything a session may try that needs a scope, besides the methods (whose scope is in the
 * METHODS table of src/protocol/methods.ts). The one place scopes are checked.
 */
const REQUIRED_SCOPE = {
  dial: Scopes.dial,
  receive: Scopes.receive,
  joinRooms: Scopes.joinRooms,
  moderateRooms: Scopes.moderateRooms,
  listCalls: Scopes.list,
  assist: Scopes.assist,
} as const satisfies Record<string, Scope>;

export type Action = keyof typeof REQUIRED_SCOPE;

const DOING: Record<Action, string> = {
  dial: 'place calls',
  receive: 'be rung',
  joinRooms: 'join rooms',
  moderateRooms: 'moderate rooms',
  listCalls: "list the project's calls",
  assist: 'whisper to or barge into calls',
};

/**
 * Throws `forbidden` unless the scopes allow assisting in `mode`: `monitor` with `calls:monitor`
 * or `calls:assist`, the other modes with `calls:assist` only.
 */
export function authorizeAssist(scopes: readonly Scope[], mode: string): void {
  if (scopes.includes(Scopes.assist)) return;
  if (mode === 'monitor' && scopes.includes(Scopes.monitor)) return;
  if (mode === 'monitor') throw forbidden(Scopes.monitor, 'listen in on calls');
  throw forbidden(Scopes.assist, `assist calls in ${mode} mode`);
}

export function can(scopes: readonly Scope[], action: Action): boolean {
  return scopes.includes(REQUIRED_SCOPE[action]);
}

/** Throws `forbidden` unless the scopes allow the action. */
export function authorize(scopes: readonly Scope[], action: Action): void {
  if (!can(scopes, action)) throw forbidden(REQUIRED_SCOPE[action], DOING[action]);
}

/** Throws `forbidden` unless the scopes include a method's required scope (null: none needed). */
export function authorizeMethod(scopes: readonly Scope[], scope: Scope | null): void {
  if (scope === null || scopes.includes(scope)) return;
  const action = (Object.keys(REQUIRED_SCOPE) as Action[]).find((a) => REQUIRED_SCOPE[a] === scope);
  throw forbidden(scope, action ? DOING[action] : 'do this');
}

function forbidden(scope: Scope, doing: string): RelayRpcError {
  return new RelayRpcError(
    RpcErrorCodes.forbidden,
    ErrorCodes.forbidden,
    `This token lacks the "${scope}" scope. Issue the token with that scope to ${doing}.`,
  );
}
