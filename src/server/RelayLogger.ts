import { systemClock } from './clock.js';

/** The fields of a log event, written after its name (an Error as its name, message and code). */
export type LogFields = Record<string, unknown>;

/**
 * How much an event matters: `info`, what happened (sessions, calls, refused requests);
 * `warn`, a failure the Relay works around (Redis, the store or Janus failing); `error`, a
 * failure of the Relay itself (a request it could not handle).
 */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * Receives the Relay's structured log: one call per event, under a stable dotted name
 * (`session.opened`, `request.refused`, `store.failed`…; every event and its fields are listed
 * in docs/DEPLOY.md#logs-and-metrics). Called synchronously from the Relay's hot paths: write
 * or queue, never block. A logger that throws is ignored.
 */
export interface RelayLogger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Where a logger writes each line (given without its newline). */
export type LineWriter = (line: string) => void;

/** The time source of a logger: ms since the epoch. */
export interface LogClock {
  now(): number;
}

const toStdout: LineWriter = (line) => void process.stdout.write(`${line}\n`);
const toStderr: LineWriter = (line) => void process.stderr.write(`${line}\n`);
const ignore = (): void => undefined;
/** Keys of a JSON line that fields never replace. */
const RESERVED = new Set(['time', 'level', 'event']);
/** Text values written without quotes. */
const BARE = /^[\w.:/@+-]+$/;

/**
 * A logger writing one JSON object per line: `{"time": ISO 8601, "level", "event", ...fields}`.
 * An Error field becomes `{ name, message, code?, cause? }`, with `stack` at level `error`.
 *
 * @param write Where each line goes. Default: stdout.
 * @param clock The time of each line. Default: the system clock.
 */
export function jsonLogger(
  write: LineWriter = toStdout,
  clock: LogClock = systemClock,
): RelayLogger {
  return byLevel((level, event, fields) => {
    const time = new Date(clock.now()).toISOString();
    const entry: Record<string, unknown> = { time, level, event };
    if (fields) {
      for (const key of Object.keys(fields)) if (!RESERVED.has(key)) entry[key] = fields[key];
    }
    let line: string;
    try {
      line = JSON.stringify(entry, (_key, value: unknown) => jsonValue(value, level));
    } catch {
      // A field that cannot be written (a cycle): the event is still told.
      line = JSON.stringify({ time, level, event, unserializable: true });
    }
    write(line);
  });
}

/**
 * A logger writing one line of text per event: `ISO-8601-time level event key=value …`. A value
 * is bare when it is a number or a simple word, else JSON (so one event is always one line); an
 * Error is its message, or its stack at level `error`.
 *
 * @param write Where each line goes. Default: stdout.
 * @param clock The time of each line. Default: the system clock.
 */
export function textLogger(
  write: LineWriter = toStdout,
  clock: LogClock = systemClock,
): RelayLogger {
  return byLevel((level, event, fields) => {
    let line = `${new Date(clock.now()).toISOString()} ${level} ${event}`;
    if (fields) {
      for (const [key, value] of Object.entries(fields)) {
        if (value !== undefined) line += ` ${key}=${textValue(value, level)}`;
      }
    }
    write(line);
  });
}

/** A logger that drops every event. */
export const silentLogger: RelayLogger = { info: ignore, warn: ignore, error: ignore };

/**
 * The Relay's logger when it is given none: warnings and errors as text lines on stderr, info
 * dropped. An embedded Relay is never silent about its failures, nor chatty about its sessions.
 */
export function defaultLogger(): RelayLogger {
  const text = textLogger(toStderr);
  return {
    info: ignore,
    warn: (event, fields) => text.warn(event, fields),
    error: (event, fields) => text.error(event, fields),
  };
}

function byLevel(
  log: (level: LogLevel, event: string, fields: LogFields | undefined) => void,
): RelayLogger {
  return {
    info: (event, fields) => log('info', event, fields),
    warn: (event, fields) => log('warn', event, fields),
    error: (event, fields) => log('error', event, fields),
  };
}

function jsonValue(value: unknown, level: LogLevel): unknown {
  if (value instanceof Error) return describeError(value, level === 'error');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function describeError(error: Error, withStack: boolean): Record<string, unknown> {
  const described: Record<string, unknown> = { name: error.name, message: error.message };
  const { code } = error as { code?: unknown };
  if (code !== undefined) described.code = code;
  if (error.cause instanceof Error) described.cause = error.cause.message;
  if (withStack && error.stack !== undefined) described.stack = error.stack;
  return described;
}

function textValue(value: unknown, level: LogLevel): string {
  if (value instanceof Error) {
    return JSON.stringify(level === 'error' ? (value.stack ?? value.message) : value.message);
  }
  if (typeof value === 'string') return BARE.test(value) ? value : JSON.stringify(value);
  if (typeof value !== 'object' || value === null) return String(value);
  try {
    return JSON.stringify(value, (_key, inner: unknown) => jsonValue(inner, level));
  } catch {
    return '"[unserializable]"';
  }
}
