import { ErrorCodes, RelayRpcError, RpcErrorCodes } from '../../protocol/index.js';

/*
 * The errors of 1:1 calls, each saying what happened and what to do, with the JSON-RPC codes
 * the protocol gives them.
 */

function rpc(rpcCode: number, code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string) {
  return new RelayRpcError(rpcCode, code, message);
}

export function invalidState(message: string): RelayRpcError {
  return rpc(RpcErrorCodes.invalidState, ErrorCodes.invalidState, message);
}

export function invalidParams(message: string): RelayRpcError {
  return rpc(RpcErrorCodes.invalidParams, ErrorCodes.invalidParams, message);
}

export function tooManyCalls(max: number): RelayRpcError {
  return rpc(
    RpcErrorCodes.limitExceeded,
    ErrorCodes.limitExceeded,
    `This session already has ${max} calls. End one before placing another.`,
  );
}

export function unavailable(to: string): RelayRpcError {
  return rpc(
    RpcErrorCodes.unavailable,
    ErrorCodes.unavailable,
    `"${to}" is not connected. Try again when they are online.`,
  );
}

export function busy(to: string): RelayRpcError {
  return rpc(RpcErrorCodes.busy, ErrorCodes.busy, `"${to}" is busy on other calls. Try later.`);
}

export function answeredElsewhere(): RelayRpcError {
  return rpc(
    RpcErrorCodes.invalidState,
    ErrorCodes.answeredElsewhere,
    'This call was answered on another device.',
  );
}

export function callNotFound(): RelayRpcError {
  return rpc(
    RpcErrorCodes.callNotFound,
    ErrorCodes.callNotFound,
    'No such call on this session. It may have ended; check the call id.',
  );
}

export function callNotFoundInProject(): RelayRpcError {
  return rpc(
    RpcErrorCodes.callNotFound,
    ErrorCodes.callNotFound,
    'No ongoing call or room with this id in the project. It may have ended: list the ' +
      'ongoing ones with calls.list.',
  );
}

export function tooManySupervisors(max: number): RelayRpcError {
  return rpc(
    RpcErrorCodes.limitExceeded,
    ErrorCodes.limitExceeded,
    `This call already has ${max} supervisors (maxSupervisorsPerCall). Try again when one leaves.`,
  );
}

export function tooManyEarlySignals(maxSignals: number, maxBytes: number): RelayRpcError {
  return rpc(
    RpcErrorCodes.limitExceeded,
    ErrorCodes.limitExceeded,
    `At most ${maxSignals} signals (${maxBytes} bytes) are held before the answer. ` +
      'Wait for call.answered.',
  );
}

export function peerBacklogged(): RelayRpcError {
  return rpc(
    RpcErrorCodes.peerBacklogged,
    ErrorCodes.peerBacklogged,
    'The other party has not yet read the signals already sent to it, so this one was not ' +
      'forwarded. Send it again shortly.',
  );
}
