import { ServerEvents } from '../../protocol/index.js';
import type { NodeBus } from './NodeBus.js';
import { RemoteSession } from './RemoteSession.js';

/** A remote session whose call.incoming is a ring the other node answers (or refuses). */
export class RingingRemoteSession extends RemoteSession {
  constructor(
    init: ConstructorParameters<typeof RemoteSession>[0],
    node: string,
    bus: NodeBus,
    private readonly onRing: (callId: string, params: Record<string, unknown>) => void,
  ) {
    super(init, node, bus);
  }

  override notify(method: string, params: Record<string, unknown>): boolean {
    if (method === ServerEvents.incoming) {
      this.onRing(String(params.callId), params);
      return true;
    }
    return super.notify(method, params);
  }
}
