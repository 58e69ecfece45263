import { newId } from '../crypto.js';

/** Longest participant id a client may name. */
export const MAX_PARTICIPANT_ID_LENGTH = 64;

const PARTICIPANT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether a value is a well-formed participant id: 1 to 64 of A–Z, a–z, 0–9, `_` and `-`. */
export function isParticipantId(value: unknown): value is string {
  return typeof value === 'string' && PARTICIPANT_ID.test(value);
}

/** A fresh participant id (a UUID, which is well-formed). */
export function newParticipantId(): string {
  return newId();
}
