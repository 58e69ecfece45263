import { ErrorCodes, RpcErrorCodes } from '../../protocol/index.js';
import type { Clock } from '../clock.js';
import type { GatewayCall } from './GatewayCall.js';
import { rpc } from './gatewayTarget.js';
import type { SipLeg } from './SipGateway.js';

/** How long a transfer waits for the far end's NOTIFY before taking its 202 as consent, in ms. */
const TRANSFER_WAIT_MS = 5_000;

/**
 * Sends the far end a REFER to `uri` and resolves once it consents; throws the wire error when
 * the gateway or the far end refuses (the call goes on). The far end takes the REFER (202), then
 * says how calling the target goes (NOTIFY with a sipfrag): 1xx/2xx is consent, anything else a
 * refusal. Without a NOTIFY in time, the 202 stands (Janus does not report it).
 */
export async function referTransfer(
  call: GatewayCall,
  leg: SipLeg,
  uri: string,
  clock: Clock,
): Promise<void> {
  const status = await new Promise<number>((resolve, reject) => {
    const timer = clock.setTimeout(() => resolve(202), TRANSFER_WAIT_MS);
    call.referred = (code) => {
      clock.clearTimeout(timer);
      resolve(code);
    };
    leg.transfer(uri).catch((error: unknown) => {
      clock.clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  })
    .catch((error: unknown) => {
      throw rpc(
        RpcErrorCodes.invalidState,
        ErrorCodes.invalidState,
        `The gateway refused the transfer (${(error as Error).message}). The call goes on.`,
      );
    })
    .finally(() => {
      call.referred = undefined;
    });
  if (status >= 300) {
    throw rpc(
      RpcErrorCodes.invalidState,
      ErrorCodes.invalidState,
      `The other party refused the transfer (SIP ${status}). The call goes on.`,
    );
  }
}
