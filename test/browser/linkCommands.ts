import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { BrowserCommand } from 'vitest/node';

/**
 * Browser commands (run in Node) that take the test namespace's veth link down and up again
 * (scripts/loopback.sh: va 10.77.0.1 <-> vb 10.77.0.2), a network outage for peers that use its
 * address. They act only on va and vb, and only when the process is in that private namespace:
 * the namespace has exactly the interfaces lo, va and vb.
 *
 * Down also removes the link's address, and up puts it back: both ends of the pair live in the
 * same namespace, so Linux delivers traffic between 10.77.0.1 and 10.77.0.2 over loopback (an
 * address stays local while its link is down) and a downed link alone stops nothing. Without
 * the address, packets to it are dropped, as when a laptop leaves a Wi-Fi network.
 */
const LINKS = { va: '10.77.0.1/24', vb: '10.77.0.2/24' } as const;
type Link = keyof typeof LINKS;

const ip = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].find((path) => existsSync(path)) ?? 'ip';

function run(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ip, args, { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

async function assertInTestNamespace(): Promise<void> {
  const names = (await run(['-o', 'link', 'show']))
    .split('\n')
    .flatMap((line) => {
      const name = /^\d+:\s+([^:@\s]+)/.exec(line)?.[1];
      return name ? [name] : [];
    })
    .sort();
  if (names.join(',') !== 'lo,va,vb') {
    throw new Error(
      `Refusing to change links outside the test namespace (interfaces: ${names.join(', ')}). ` +
        'Run the tests through scripts/loopback.sh.',
    );
  }
}

/** Takes `link` (va or vb) down (removing its address) or up (restoring it). */
export const setLink: BrowserCommand<[link: Link, state: 'up' | 'down']> = async (
  context,
  link,
  state,
) => {
  // Every peer and Janus in the namespace may be using the link: only tests that run alone in a
  // namespace of their own may cut it (the outage project, one file at a time).
  const project = context.project.name;
  if (!project.startsWith('outage')) {
    throw new Error(
      `setLink: taking links down would break the tests running beside this one (project ${project}). ` +
        'Put the test in test/outage/ (npm run test:outage runs it alone).',
    );
  }
  if (!Object.hasOwn(LINKS, link) || (state !== 'up' && state !== 'down')) {
    throw new Error(`setLink: only va or vb, up or down (got ${String(link)} ${String(state)}).`);
  }
  await assertInTestNamespace();
  const address = LINKS[link];
  const assigned = (await run(['-o', 'addr', 'show', 'dev', link])).includes(` ${address} `);
  if (state === 'down') {
    await run(['link', 'set', link, 'down']);
    if (assigned) await run(['addr', 'del', address, 'dev', link]);
  } else {
    if (!assigned) await run(['addr', 'add', address, 'dev', link]);
    await run(['link', 'set', link, 'up']);
  }
};

declare module 'vitest/browser' {
  interface BrowserCommands {
    /** Takes the namespace's veth link (va or vb) and its address down, or both up again. */
    setLink(link: 'va' | 'vb', state: 'up' | 'down'): Promise<void>;
  }
}
