/**
 * Scopes a JWT may carry. The Relay checks them in one place (server/authorize.ts).
 */
export const Scopes = {
  /** May invite other resources of the project. */
  dial: 'calls:dial',
  /** May be rung by invites. */
  receive: 'calls:receive',
  /** May join rooms of the project by name (and nothing else: such a token cannot dial nor be rung). */
  joinRooms: 'rooms:join',
  /** May mute and remove participants of the rooms it is in, and end them. */
  moderateRooms: 'rooms:moderate',
  /** May call `sip:` URIs through the project's SIP gateway (with `calls:dial`). */
  sip: 'calls:sip',
  /** May call phone numbers (E.164) through the project's SIP trunk (with `calls:dial`). */
  pstn: 'calls:pstn',
  /** May list the project's ongoing calls and rooms (`calls.list`, `calls.watch`). */
  list: 'calls:list',
  /** May join the project's calls and rooms as a supervisor (`call.assist`), in every mode. */
  assist: 'calls:assist',
  /** May join the project's calls and rooms as a listening supervisor (`call.assist` monitor only). */
  monitor: 'calls:monitor',
} as const;

export type Scope = (typeof Scopes)[keyof typeof Scopes];

export const ALL_SCOPES: readonly Scope[] = Object.values(Scopes);

/** Scopes a token gets when the request names none. */
export const DEFAULT_SCOPES: readonly Scope[] = [Scopes.dial, Scopes.receive];

export function isScope(value: unknown): value is Scope {
  return typeof value === 'string' && (ALL_SCOPES as readonly string[]).includes(value);
}
