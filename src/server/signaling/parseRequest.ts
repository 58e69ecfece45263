import type { RawData } from 'ws';
import {
  ErrorCodes,
  RelayError,
  RelayRpcError,
  RpcErrorCodes,
  SFU_PEER,
  exceedsDepth,
  isPlainObject,
  messageBytes,
  normalizeIdentity,
  resourceProblem,
  isAssistMode,
  type AssistMode,
  type CallsFilter,
  type RejectReason,
  type RoomMedia,
  type RelayLimits,
} from '../../protocol/index.js';
import { isParticipantId, MAX_PARTICIPANT_ID_LENGTH } from '../rooms/participantId.js';
import type { RequestId } from './Connection.js';

/** Deepest JSON a signal or metadata payload may nest (SDP and ICE payloads use 3). */
export const MAX_PAYLOAD_DEPTH = 16;
const MAX_STRING = 8192;
const MAX_ID_LENGTH = 128;

export type ParsedRequest =
  | { id: RequestId | undefined; method: string; params: unknown }
  | { id: RequestId; error: RelayRpcError };

/** Parses one text frame as a JSON-RPC 2.0 request or notification. */
export function parseRequest(data: RawData): ParsedRequest {
  // ws hands a Buffer; Buffer[] and ArrayBuffer only under other binaryTypes.
  const text = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return {
      id: null,
      error: rpcError(
        RpcErrorCodes.parseError,
        ErrorCodes.parseError,
        'The frame is not valid JSON.',
      ),
    };
  }
  if (!isPlainObject(message)) {
    return {
      id: null,
      error: invalidRequest('Send one JSON-RPC 2.0 request object per frame (no batches).'),
    };
  }
  const { id, method, jsonrpc, params } = message;
  const validId =
    id === undefined ||
    (typeof id === 'string' && id.length <= MAX_ID_LENGTH) ||
    (typeof id === 'number' && Number.isSafeInteger(id));
  if (!validId) {
    return {
      id: null,
      error: invalidRequest(
        `"id" must be a string of at most ${MAX_ID_LENGTH} characters or an integer.`,
      ),
    };
  }
  if (jsonrpc !== '2.0' || typeof method !== 'string' || method.length > MAX_ID_LENGTH) {
    return {
      id: id ?? null,
      error: invalidRequest('A request needs "jsonrpc": "2.0" and a "method" string.'),
    };
  }
  return { id, method, params };
}

/** Typed access to a request's params; each reader throws invalid_params naming the field. */
export function readParams(method: string, params: unknown, limits: RelayLimits): ParamReader {
  if (params !== undefined && !isPlainObject(params)) {
    throw invalidParams(`${method}: "params" must be an object.`);
  }
  return new ParamReader(method, params ?? {}, limits);
}

/** A class rather than closures: one allocation per request (signals are most of the traffic). */
export class ParamReader {
  constructor(
    private readonly method: string,
    private readonly values: Record<string, unknown>,
    private readonly limits: RelayLimits,
  ) {}

  optionalString(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length === 0 || value.length > MAX_STRING) {
      throw this.fail(name, `a non-empty string of at most ${MAX_STRING} characters`);
    }
    return value;
  }

  string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) throw this.fail(name, 'a non-empty string');
    return value;
  }

  /** A resource name, in NFC (the spelling tokens carry). */
  resource(name: string): string {
    const problem = resourceProblem(this.values[name], this.limits.maxResourceLength);
    if (problem) throw invalidParams(`${this.method}: "${name}" ${problem}.`);
    return normalizeIdentity(this.values[name] as string);
  }

  optionalSeq(name: string): number | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw this.fail(name, 'a non-negative integer');
    }
    return value;
  }

  json(name: string, required = false): unknown {
    const value = this.values[name];
    if (value === undefined && required) throw this.fail(name, 'present');
    if (exceedsDepth(value, MAX_PAYLOAD_DEPTH)) {
      throw this.fail(name, `JSON nested at most ${MAX_PAYLOAD_DEPTH} levels deep`);
    }
    return value;
  }

  /**
   * A call's metadata: JSON as {@link json}, at most `maxMetadataBytes` once serialized. It is
   * copied to every session rung, so it is kept far below a frame.
   */
  metadata(name: string): unknown {
    const value = this.json(name);
    if (value === undefined) return undefined;
    const max = this.limits.maxMetadataBytes;
    if (Buffer.byteLength(JSON.stringify(value)) > max) {
      throw this.fail(name, `at most ${max} bytes of JSON (maxMetadataBytes)`);
    }
    return value;
  }

  /**
   * An in-call message's body: JSON as {@link json}, required, at most `maxMessageBytes` once
   * serialized (refused with `payload_too_large` before anything is buffered for receivers).
   */
  messageBody(name: string): unknown {
    const value = this.json(name, true);
    const max = this.limits.maxMessageBytes;
    const bytes = messageBytes(value);
    if (bytes > max) {
      throw new RelayError(
        ErrorCodes.payloadTooLarge,
        `${this.method}: "${name}" is ${bytes} bytes of JSON, more than the ${max} a message ` +
          'may carry (maxMessageBytes). Send a shorter message, or split it.',
      );
    }
    return value;
  }

  rejectReason(name: string): RejectReason {
    const value = this.values[name] ?? 'declined';
    if (value !== 'declined' && value !== 'busy') throw this.fail(name, '"declined" or "busy"');
    return value;
  }

  /** A room name, in NFC: the rules of resource names ({@link resource}). */
  roomName(name: string): string {
    return this.resource(name);
  }

  /** A participant id: 1 to 64 of A–Z, a–z, 0–9, `_` and `-`. */
  participantId(name: string): string {
    const value = this.values[name];
    if (!isParticipantId(value)) {
      throw this.fail(
        name,
        `a participant id (1 to ${MAX_PARTICIPANT_ID_LENGTH} of A-Z, a-z, 0-9, "_" and "-")`,
      );
    }
    return value;
  }

  optionalParticipantId(name: string): string | undefined {
    return this.values[name] === undefined ? undefined : this.participantId(name);
  }

  assistMode(name: string): AssistMode {
    const value = this.values[name];
    if (!isAssistMode(value)) throw this.fail(name, '"monitor", "whisper" or "barge"');
    return value;
  }

  /** The filters of calls.list and calls.watch: `resource` and `state`, both optional. */
  callsFilter(): CallsFilter {
    const filter: CallsFilter = {};
    if (this.values.resource !== undefined) filter.resource = this.resource('resource');
    const state = this.values.state;
    if (state !== undefined && state !== 'ringing' && state !== 'active') {
      throw this.fail('state', '"ringing" or "active"');
    }
    if (state !== undefined) filter.state = state;
    return filter;
  }

  /** The value when it is a string, else undefined: for params whose bad values are ignored. */
  stringOrNothing(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === 'string' ? value : undefined;
  }

  boolean(name: string): boolean {
    const value = this.optionalBoolean(name);
    if (value === undefined) throw this.fail(name, 'true or false');
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.values[name];
    if (value !== undefined && typeof value !== 'boolean') throw this.fail(name, 'true or false');
    return value;
  }

  /** How a room carries media, when given. */
  optionalMedia(name: string): RoomMedia | undefined {
    const value = this.values[name];
    if (value !== undefined && value !== 'mesh' && value !== 'sfu') {
      throw this.fail(name, '"mesh" or "sfu"');
    }
    return value;
  }

  /** A signal's target: a participant id, or SFU_PEER (the media server of an sfu room). */
  signalTarget(name: string): string {
    return this.values[name] === SFU_PEER ? SFU_PEER : this.participantId(name);
  }

  /** The kind of track a moderator mutes. */
  kind(name: string): 'audio' | 'video' {
    const value = this.values[name];
    if (value !== 'audio' && value !== 'video') throw this.fail(name, '"audio" or "video"');
    return value;
  }

  private fail(name: string, expected: string): RelayRpcError {
    return invalidParams(`${this.method}: "${name}" must be ${expected}.`);
  }
}

function rpcError(
  rpcCode: number,
  code: (typeof ErrorCodes)[keyof typeof ErrorCodes],
  message: string,
) {
  return new RelayRpcError(rpcCode, code, message);
}

function invalidRequest(message: string) {
  return rpcError(RpcErrorCodes.invalidRequest, ErrorCodes.invalidRequest, message);
}

function invalidParams(message: string) {
  return rpcError(RpcErrorCodes.invalidParams, ErrorCodes.invalidParams, message);
}
