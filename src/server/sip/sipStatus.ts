import type { EndReason } from '../../protocol/index.js';

/**
 * The end reason of a gateway call that the SIP side ended with `status`: busy (486, 600),
 * unavailable (404, 410, 480, 484, 604), cancelled (487), forbidden (401, 403, 407),
 * no-answer (408), declined (603); a call that was answered ends as a hangup; anything else
 * failed.
 */
export function endReasonOfSip(status: number | undefined, answered: boolean): EndReason {
  if (answered) return 'hangup';
  switch (status) {
    case 486:
    case 600:
      return 'busy';
    case 404:
    case 410:
    case 480:
    case 484:
    case 604:
      return 'unavailable';
    case 487:
      return 'cancelled';
    case 401:
    case 403:
    case 407:
      return 'forbidden';
    case 408:
      return 'no-answer';
    case 603:
      return 'declined';
    default:
      return 'failed';
  }
}
