import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartSippOptions {
  /** Path of the scenario XML, e.g. from `sippScenario('uas-echo')`. Required. */
  scenario: string;
  /** Address sipp binds to, for SIP and media (-i, -mi, -bind_local). Default '10.77.0.2'. */
  host?: string;
  /** UDP port for SIP (-p); 0 picks a free one. Default 0. */
  port?: number;
  /** The other side as 'host:port', for UAC scenarios (sipp's last argument). Default: none. */
  remote?: string;
  /** User part of the Request-URI (-s), e.g. '+15551230000'. Default: sipp's 'service'. */
  service?: string;
  /**
   * Echo the RTP (and RTP + 2) it receives back to its sender (-rtp_echo). Default true for
   * scenarios whose file name starts with 'uas-', false otherwise.
   */
  rtpEcho?: boolean;
  /** Calls (sipp "calls": for the registrar, REGISTERs) to handle before it exits (-m). Default 1. */
  calls?: number;
  /** Scenario variables, each passed as `-set name value` (e.g. { hold_ms: 5000 }). Default none. */
  vars?: Record<string, string | number>;
  /** Raw extra sipp arguments, placed before the remote address. Default none. */
  args?: string[];
  /** Path of the sipp binary. Default 'sipp' on PATH (Debian: /usr/bin/sipp from sip-tester). */
  binary?: string;
}

export interface SippResult {
  /**
   * sipp's exit code: 0 when every call succeeded, 1 when one failed, 99 when it handled no call,
   * 255/254 on a fatal (binding) error; null when a signal ended it.
   */
  code: number | null;
  /** The SIP messages sipp sent and received (its -trace_msg file). */
  messages: string;
  /**
   * RTP packets it echoed (both streams), from its screen dumps: a lower bound, as the count is
   * read every 250 ms while it runs (sipp's final screen omits it). 0 when none or no -rtp_echo.
   */
  rtpEchoed: number;
  /** DTMF digits received in INFO bodies (application/dtmf-relay Signal=, application/dtmf), in order. */
  dtmf: string;
  /** The Refer-To URIs (without <>) of the REFERs it received, in order. */
  referTo: string[];
  /** Final statuses (>= 200) of the INVITE responses it received (UAC scenarios), in order. */
  finalStatuses: number[];
  /** 'host:port' of every distinct Contact that REGISTERed with it (registrar), in order. */
  contacts: string[];
}

export interface TestSipp {
  /** 'host:port' it listens on for SIP. */
  readonly address: string;
  /** Its SIP UDP port. */
  readonly port: number;
  /** Its RTP port (-mp); with -rtp_echo it echoes on this port and this port + 2. */
  readonly mediaPort: number;
  /** Folder of its trace files (messages.log, screen.log, errors.log); removed by stop(). */
  readonly dir: string;
  /** Resolves when sipp exits, with its exit code and what it saw. Never rejects. */
  readonly exited: Promise<SippResult>;
  /** Everything in its message trace so far, for checks while it runs. */
  messages(): string;
  /** What it saw so far (code: null), parsed from its message trace, e.g. `contacts` while it runs. */
  snapshot(): SippResult;
  /** Stops it (SIGTERM, then SIGKILL after 2 s) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** How long sipp may take to bind its SIP port, in ms (it takes ~10 ms). */
const READY_TIMEOUT_MS = 10_000;
/** How long stop() waits after SIGTERM before SIGKILL, in ms. */
const STOP_GRACE_MS = 2_000;
/** How often the RTP echo count is read (SIGUSR2 makes sipp dump its screen), in ms. */
const SCREEN_DUMP_MS = 250;

/** Every sipp still running, killed if this process exits before stopping it. */
const children = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A sipp left running would keep its ports and, as a UAS, answer the next test's calls.
  process.once('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
}

/** The package's root: the nearest folder above this module that holds a package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('sippScenario: no package.json above ' + import.meta.url);
    dir = parent;
  }
}

/**
 * Absolute path of the bundled scenario test/sipp/<name>.xml (e.g. 'uas-echo', 'registrar',
 * 'uac-inbound'), found from the package root, so it works from src/ (vitest) and dist/.
 */
export function sippScenario(name: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new TypeError(
      `sippScenario: ${JSON.stringify(name)} is not a scenario name (e.g. 'uas-echo').`,
    );
  }
  const path = join(packageRoot(), 'test', 'sipp', `${name}.xml`);
  if (!existsSync(path)) throw new Error(`sippScenario: no scenario ${path}.`);
  return path;
}

/** Binds a UDP socket to host:port (0: the OS picks); resolves its port, or null when taken. */
function bindUdp(host: string, port: number): Promise<{ port: number; close: () => void } | null> {
  return new Promise((resolve) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind(port, host, () =>
      resolve({ port: socket.address().port, close: () => socket.close() }),
    );
  });
}

/** A UDP port free on `host`, with `span` - 1 free ports after it (the OS picks the first). */
async function freeUdpPorts(host: string, span: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const first = await bindUdp(host, 0);
    if (!first) break;
    const held = [first];
    let ok = first.port + span - 1 <= 65535;
    for (let next = first.port + 1; ok && next < first.port + span; next++) {
      const socket = await bindUdp(host, next);
      if (socket) held.push(socket);
      else ok = false;
    }
    for (const socket of held) socket.close();
    if (ok) return first.port;
  }
  throw new Error(
    `startSipp: could not bind a UDP port on ${host}: it is not an address of this machine? ` +
      'Run inside scripts/loopback.sh (it adds 10.77.0.1 and 10.77.0.2).',
  );
}

/** True when a UDP socket is bound to `port` in this network namespace (Linux /proc). */
function udpBound(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      const rows = readFileSync(file, 'utf8').split('\n').slice(1);
      // Columns: sl local_address rem_address ...; local_address is ADDR:PORT in hex.
      if (rows.some((row) => (row.trim().split(/\s+/)[1] ?? '').endsWith(hex.trim()))) return true;
    } catch {
      // No /proc (not Linux): the caller falls back to the message file.
    }
  }
  return false;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

interface SipMessage {
  received: boolean;
  /** Request method, or '' for a response. */
  method: string;
  status: number;
  headers: [name: string, value: string][];
  body: string;
}

const COMPACT: Record<string, string> = {
  i: 'call-id',
  m: 'contact',
  c: 'content-type',
  r: 'refer-to',
  f: 'from',
  t: 'to',
  v: 'via',
  l: 'content-length',
};

function header(message: SipMessage, name: string): string | undefined {
  return message.headers.find(([key]) => key === name)?.[1];
}

/** Splits sipp's -trace_msg file into its messages. */
function parseSippTrace(text: string): SipMessage[] {
  const messages: SipMessage[] = [];
  for (const block of text.split(/^-{20,}.*$/m)) {
    const match = /^\s*\S+ message (received|sent)[^\n]*\n\n?([\s\S]*)$/.exec(block);
    if (!match?.[2]) continue;
    const raw = match[2].replace(/\r\n/g, '\n');
    const split = raw.indexOf('\n\n');
    const head = split === -1 ? raw : raw.slice(0, split);
    const body = split === -1 ? '' : raw.slice(split + 2);
    const [start = '', ...lines] = head.split('\n');
    const response = /^SIP\/2\.0 (\d{3})/.exec(start);
    const request = /^([A-Z]+) \S+ SIP\/2\.0/.exec(start);
    if (!response && !request) continue;
    const headers: [string, string][] = [];
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      headers.push([COMPACT[name] ?? name, line.slice(colon + 1).trim()]);
    }
    messages.push({
      received: match[1] === 'received',
      method: request?.[1] ?? '',
      status: response ? Number(response[1]) : 0,
      headers,
      body,
    });
  }
  return messages;
}

/** What the received messages in a trace say: DTMF, Refer-To, final statuses, contacts. */
function summarize(text: string): Omit<SippResult, 'code' | 'rtpEchoed' | 'messages'> {
  const seen = new Set<string>();
  /** False for a retransmission (same Call-ID, CSeq and status) of a message already counted. */
  const first = (message: SipMessage) => {
    const key = `${header(message, 'call-id')}|${header(message, 'cseq')}|${message.status}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  };
  let dtmf = '';
  const referTo: string[] = [];
  const finalStatuses: number[] = [];
  const contacts: string[] = [];
  for (const message of parseSippTrace(text)) {
    if (!message.received) continue;
    if (message.method === 'INFO' && first(message)) {
      const type = (header(message, 'content-type') ?? '').toLowerCase();
      if (type.startsWith('application/dtmf-relay')) {
        dtmf += /^\s*Signal\s*=\s*(\S)/im.exec(message.body)?.[1] ?? '';
      } else if (type.startsWith('application/dtmf')) {
        dtmf += message.body.trim();
      }
    } else if (message.method === 'REFER' && first(message)) {
      const target = header(message, 'refer-to');
      if (target) referTo.push(/<([^>]*)>/.exec(target)?.[1] ?? target);
    } else if (
      message.status >= 200 &&
      / INVITE$/i.test(header(message, 'cseq') ?? '') &&
      first(message)
    ) {
      finalStatuses.push(message.status);
    } else if (message.method === 'REGISTER') {
      for (const [name, value] of message.headers) {
        if (name !== 'contact') continue;
        // sip:user@host:port;params or <sip:user@host:port;params>: keep host:port.
        const uri = /<([^>]*)>/.exec(value)?.[1] ?? value;
        const hostPort = /^sips?:(?:[^@]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/.exec(uri.trim());
        if (!hostPort?.[1]) continue;
        const contact = `${hostPort[1]}:${hostPort[2] ?? '5060'}`;
        if (!contacts.includes(contact)) contacts.push(contact);
      }
    }
  }
  return { dtmf, referTo, finalStatuses, contacts };
}

/** The largest "N Total echo RTP pckts 1st/2nd stream" counts in sipp's screen dumps, summed. */
function echoedPackets(screen: string): number {
  let total = 0;
  for (const stream of ['1st', '2nd']) {
    let max = 0;
    for (const match of screen.matchAll(new RegExp(`(\\d+) Total echo RTP pckts ${stream}`, 'g'))) {
      max = Math.max(max, Number(match[1]));
    }
    total += max;
  }
  return total;
}

function tail(path: string, lines = 15): string {
  const text = readText(path).trimEnd();
  return text ? `--- last lines of ${path}:\n${text.split('\n').slice(-lines).join('\n')}` : '';
}

function isLocalAddress(host: string): boolean {
  return Object.values(networkInterfaces()).some((addresses) =>
    (addresses ?? []).some((address) => address.address === host),
  );
}

function check(options: StartSippOptions): void {
  const { port, calls, host, remote } = options;
  if (typeof options.scenario !== 'string' || !existsSync(options.scenario)) {
    throw new TypeError(
      `startSipp: scenario ${JSON.stringify(options.scenario)} is not a file: pass a path, ` +
        "e.g. sippScenario('uas-echo').",
    );
  }
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new TypeError(`startSipp: port ${port} is not a UDP port: pass 0-65535 (0 picks one).`);
  }
  if (calls !== undefined && (!Number.isInteger(calls) || calls < 1)) {
    throw new TypeError(`startSipp: calls ${calls} must be a positive integer.`);
  }
  if (host !== undefined && !/^[0-9a-fA-F.:]+$/.test(host)) {
    throw new TypeError(`startSipp: host ${JSON.stringify(host)} must be an IP address.`);
  }
  if (remote !== undefined && !/^(\[[0-9a-fA-F:]+\]|[0-9A-Za-z.-]+):\d{1,5}$/.test(remote)) {
    throw new TypeError(`startSipp: remote ${JSON.stringify(remote)} must be 'host:port'.`);
  }
  for (const name of Object.keys(options.vars ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new TypeError(
        `startSipp: vars name ${JSON.stringify(name)} is not a sipp variable name.`,
      );
    }
  }
}

/**
 * Starts a real sipp (Debian's sip-tester 3.6.1) running one of the scenarios in test/sipp, bound to
 * `host` (default 10.77.0.2, the far end of scripts/loopback.sh's veth pair), with its message
 * trace, screen and error log in a temp folder. Resolves once its SIP port is bound. Run it inside
 * scripts/loopback.sh. Call stop() when done (it also removes the folder). Node only (Linux).
 *
 * Command line: sipp -sf <scenario> -i <host> -p <port> -bind_local -mi <host> -mp <mediaPort>
 *   -m <calls> -nostdin -trace_msg -message_file <dir>/messages.log -trace_screen
 *   -screen_file <dir>/screen.log -screen_overwrite false -trace_err -error_file <dir>/errors.log
 *   [-rtp_echo] [-s <service>] [-set name value]... [args...] [remote]
 */
export async function startSipp(options: StartSippOptions): Promise<TestSipp> {
  check(options);
  const host = options.host ?? '10.77.0.2';
  const binary = options.binary ?? 'sipp';
  const rtpEcho = options.rtpEcho ?? basename(options.scenario).startsWith('uas-');
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), 'relaycall-sipp-'));
  const files = {
    messages: join(dir, 'messages.log'),
    screen: join(dir, 'screen.log'),
    errors: join(dir, 'errors.log'),
    stderr: join(dir, 'stderr.log'),
  };

  for (let attempt = 1; ; attempt++) {
    let port: number;
    let mediaPort: number;
    try {
      port = options.port || (await freeUdpPorts(host, 1));
      // The echo uses mediaPort and mediaPort + 2 (sipp's "2nd stream"); keep + 1 and + 3 free too.
      mediaPort = await freeUdpPorts(host, 4);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const args = [
      '-sf', options.scenario,
      '-i', host,
      '-p', String(port),
      '-bind_local',
      '-mi', host,
      '-mp', String(mediaPort),
      '-m', String(options.calls ?? 1),
      '-nostdin',
      '-trace_msg', '-message_file', files.messages,
      '-trace_screen', '-screen_file', files.screen, '-screen_overwrite', 'false',
      '-trace_err', '-error_file', files.errors,
    ]; // prettier-ignore
    if (rtpEcho) args.push('-rtp_echo');
    if (options.service !== undefined) args.push('-s', options.service);
    for (const [name, value] of Object.entries(options.vars ?? {}))
      args.push('-set', name, String(value));
    args.push(...(options.args ?? []));
    if (options.remote) args.push(options.remote);

    const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-8000);
    });
    let spawnError: NodeJS.ErrnoException | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let echoed = 0;
    let dumpTimer: NodeJS.Timeout | undefined;
    const exited = new Promise<SippResult>((resolve) => {
      const finish = () => {
        children.delete(child);
        clearInterval(dumpTimer);
        const messages = readText(files.messages);
        resolve({
          code: exit?.code ?? null,
          messages,
          rtpEchoed: Math.max(echoed, echoedPackets(readText(files.screen))),
          ...summarize(messages),
        });
      };
      child.once('error', (error) => {
        spawnError = error;
        exit = { code: null, signal: null };
        finish();
      });
      child.once('exit', (code, signal) => {
        exit = { code, signal };
        finish();
      });
    });

    // Ready once its SIP port is bound (or, without /proc, once it has traced a message).
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let ready = false;
    while (!exit && !ready && Date.now() < deadline) {
      ready = udpBound(port) || (!existsSync('/proc/net/udp') && existsSync(files.messages));
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // A UAC may finish its call before the first check sees its port: that is a start too.
    const finishedAlready =
      exit !== undefined && spawnError === undefined && exit.code !== null && exit.code <= 1;
    if (!ready && !finishedAlready) {
      if (!exit) child.kill('SIGKILL');
      await exited;
      const logs = [tail(files.errors), stderr.trim() ? `--- stderr:\n${stderr.trim()}` : '']
        .filter(Boolean)
        .join('\n');
      const bindFailure = /bind|address already in use|cannot assign/i.test(logs);
      if (bindFailure && !options.port && attempt < 3) continue;
      rmSync(dir, { recursive: true, force: true });
      if (spawnError?.code === 'ENOENT') {
        throw new Error(
          `sipp is not installed (${binary} not found): apt-get install sip-tester ` +
            '(Debian 12 ships 3.6.1), or pass `binary` with its path.',
        );
      }
      if (spawnError) throw new Error(`Starting ${binary} failed (${spawnError.message}).`);
      const how = exit?.signal
        ? `was killed by ${exit.signal}`
        : exit
          ? `exited with code ${String(exit.code)}`
          : `did not bind ${host}:${port} within ${READY_TIMEOUT_MS} ms`;
      const advice = !isLocalAddress(host)
        ? ` ${host} is not an address of this machine: run inside scripts/loopback.sh, which adds ` +
          'the veth pair va 10.77.0.1 / vb 10.77.0.2.'
        : '';
      throw new Error(
        `sipp (${basename(options.scenario)}) ${how} before listening.${advice}\n${logs}`,
      );
    }

    if (rtpEcho && !exit) {
      // sipp's final screen omits the echo count (its media sockets are closed by then): SIGUSR2
      // makes it append its screen to screen.log while running; keep the largest count seen.
      dumpTimer = setInterval(() => {
        if (exit) return;
        child.kill('SIGUSR2');
        echoed = Math.max(echoed, echoedPackets(readText(files.screen)));
      }, SCREEN_DUMP_MS);
      dumpTimer.unref();
    }

    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        if (!exit) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
          await exited;
          clearTimeout(timer);
        }
        await exited;
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopping;
    };
    const hostPart = host.includes(':') ? `[${host}]` : host;
    return {
      address: `${hostPart}:${port}`,
      port,
      mediaPort,
      dir,
      exited,
      messages: () => readText(files.messages),
      snapshot: () => {
        const messages = readText(files.messages);
        return { code: null, messages, rtpEchoed: echoed, ...summarize(messages) };
      },
      stop,
    };
  }
}
