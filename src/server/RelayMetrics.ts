import { Histogram } from './metrics/Histogram.js';
import { LabelCounts } from './metrics/LabelCounts.js';
import { PrometheusText } from './metrics/PrometheusText.js';
import type { RelayStats } from './RelayServer.js';

/** Upper bounds of the store latency buckets, in seconds (1 ms to 2.5 s). */
const STORE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The Relay's counters since it started, and their exposition in Prometheus's text format
 * with the gauges of `stats()`. Counters on the hot path are plain numbers: a relayed signal
 * costs two increments and no allocation. Names and meanings: docs/DEPLOY.md#logs-and-metrics.
 */
export class RelayMetrics {
  /** JSON-RPC messages received on signaling sockets (one per frame: clients send no batches). */
  messagesReceived = 0;
  /** JSON-RPC messages sent on signaling sockets: replies and notifications (several per frame). */
  messagesSent = 0;
  /** Sessions created on this node, or taken over from another node. */
  sessionsOpened = 0;
  /** Sessions this node let go of: ended, or handed over to another node. */
  sessionsClosed = 0;
  /** 1:1 and SIP calls placed or received on this node. */
  callsStarted = 0;
  /** Calls ended on this node, by reason (`hangup`, `declined`, `no-answer`…). */
  readonly callsEnded = new LabelCounts();
  /** Signaling requests answered with an error, by its code. */
  readonly signalingRefusals = new LabelCounts();
  /** REST requests answered with an error, by its code. */
  readonly restRefusals = new LabelCounts();
  /** Signaling socket opens refused before the WebSocket handshake, by HTTP status. */
  readonly upgradesRefused = new LabelCounts();
  /** REST requests answered (API, health check and metrics), by HTTP status. */
  readonly restRequests = new LabelCounts();
  /** Failures logged as warnings or errors, by event name. */
  readonly failures = new LabelCounts();
  /** How long store operations took, in seconds, by operation. */
  readonly storeSeconds = new Histogram(STORE_BUCKETS);
  /** Store operations that failed, by operation. */
  readonly storeErrors = new LabelCounts();

  /** Every metric, with `stats` as the gauges, in the text exposition format 0.0.4. */
  render(stats: RelayStats): string {
    const out = new PrometheusText();
    out
      .single(
        'relaycall_sessions',
        'gauge',
        'Sessions on this node, connected or awaiting a resume.',
        stats.sessions,
      )
      .single('relaycall_sockets', 'gauge', 'Signaling sockets open on this node.', stats.sockets)
      .single(
        'relaycall_unauthenticated_sockets',
        'gauge',
        'Signaling sockets that have not completed relay.connect yet.',
        stats.unauthenticated,
      )
      .single(
        'relaycall_calls',
        'gauge',
        '1:1 and SIP calls on this node, ringing or active.',
        stats.calls,
      )
      .single('relaycall_rooms', 'gauge', 'Rooms on this node.', stats.rooms);
    if (stats.sfu) {
      out
        .single(
          'relaycall_sfu_available',
          'gauge',
          '1 while Janus answers for sfu rooms, else 0.',
          stats.sfu.available ? 1 : 0,
        )
        .single('relaycall_sfu_rooms', 'gauge', 'sfu rooms on this node.', stats.sfu.rooms);
    }
    if (stats.sip) {
      out
        .single(
          'relaycall_sip_available',
          'gauge',
          '1 while the SIP gateway answers, else 0.',
          stats.sip.available ? 1 : 0,
        )
        .single('relaycall_sip_calls', 'gauge', 'SIP calls on this node.', stats.sip.calls);
    }
    out
      .single(
        'relaycall_messages_received_total',
        'counter',
        'JSON-RPC messages received on signaling sockets (one per WebSocket frame).',
        this.messagesReceived,
      )
      .single(
        'relaycall_messages_sent_total',
        'counter',
        'JSON-RPC messages sent on signaling sockets: replies and notifications (several may share a frame).',
        this.messagesSent,
      )
      .single(
        'relaycall_sessions_opened_total',
        'counter',
        'Sessions opened on this node (or taken over from another).',
        this.sessionsOpened,
      )
      .single(
        'relaycall_sessions_closed_total',
        'counter',
        'Sessions closed on this node (or handed over to another).',
        this.sessionsClosed,
      )
      .single(
        'relaycall_calls_started_total',
        'counter',
        '1:1 and SIP calls started on this node.',
        this.callsStarted,
      )
      .labelled(
        'relaycall_calls_ended_total',
        'counter',
        'Calls ended on this node, by reason.',
        'reason',
        this.callsEnded.entries(),
      )
      .metric(
        'relaycall_refusals_total',
        'counter',
        'Requests answered with an error, by API (signaling or rest) and error code.',
      );
    for (const [code, count] of this.signalingRefusals.entries()) {
      out.sample('relaycall_refusals_total', count, { api: 'signaling', code });
    }
    for (const [code, count] of this.restRefusals.entries()) {
      out.sample('relaycall_refusals_total', count, { api: 'rest', code });
    }
    out
      .labelled(
        'relaycall_rest_requests_total',
        'counter',
        'HTTP requests the Relay answered, by status.',
        'status',
        this.restRequests.entries(),
      )
      .labelled(
        'relaycall_upgrades_refused_total',
        'counter',
        'Signaling socket opens refused before the handshake (403 origin, 429 and 503 limits), by status.',
        'status',
        this.upgradesRefused.entries(),
      )
      .labelled(
        'relaycall_failures_total',
        'counter',
        'Failures logged as warnings or errors, by event.',
        'event',
        this.failures.entries(),
      );
    this.storeSeconds.write(
      out,
      'relaycall_store_seconds',
      'Duration of store operations, in seconds.',
      'operation',
    );
    out.labelled(
      'relaycall_store_errors_total',
      'counter',
      'Store operations that failed, by operation.',
      'operation',
      this.storeErrors.entries(),
    );
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    return out
      .single(
        'relaycall_process_resident_memory_bytes',
        'gauge',
        'Resident memory of the Relay process, in bytes.',
        memory.rss,
      )
      .single(
        'relaycall_process_heap_used_bytes',
        'gauge',
        'V8 heap in use by the Relay process, in bytes.',
        memory.heapUsed,
      )
      .single(
        'relaycall_process_cpu_seconds_total',
        'counter',
        'CPU time of the Relay process (user and system), in seconds.',
        (cpu.user + cpu.system) / 1e6,
      )
      .toString();
  }
}
