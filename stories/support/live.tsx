/**
 * For stories that call through the live dev Relay: a loader that checks it is there and picks
 * unique names, a decorator that shows how to run the story where it is not (a static build),
 * and a wrapper for play functions.
 */
import type { Decorator, Loader } from '@storybook/react-vite';
import { hasDevRelay, randomSuffix } from './devRelay.js';
import './stories.css';

/** Resources of one story render; the shared random suffix keeps stories apart on one Relay. */
export interface Names {
  /** The story's own user (the Dialer's RelayProvider). */
  alice: string;
  /** A scripted counterpart, or the second phone. */
  bob: string;
  /** Nobody is connected as this resource. */
  nobody: string;
}

export interface LiveLoaded {
  /** This page's server runs the dev Relay. */
  relay: boolean;
  names: Names;
}

async function loadLive(): Promise<LiveLoaded> {
  const suffix = randomSuffix();
  return {
    relay: await hasDevRelay(),
    names: { alice: `alice-${suffix}`, bob: `bob-${suffix}`, nobody: `nobody-${suffix}` },
  };
}

/**
 * Meta fields for a file of live stories: a loader that checks for the dev Relay and picks
 * unique names (`loaded.relay`, `loaded.names`), and a decorator that renders the story when the
 * Relay is there, else a notice saying how to run it.
 */
export function liveStories<TArgs>(): { loaders: Loader<TArgs>[]; decorators: Decorator<TArgs>[] } {
  return {
    loaders: [loadLive],
    decorators: [
      (Story, context) =>
        (context.loaded as Partial<LiveLoaded>).relay ? (
          <Story />
        ) : context.viewMode === 'docs' ? (
          <p className="story-relay-needed" role="note">
            This story needs the live Relay: run <code>npm start</code> and open it there.
          </p>
        ) : (
          <RelayNeeded story={`${context.title} › ${context.name}`} />
        ),
    ],
  };
}

/**
 * A play function that needs the Relay: skipped (the notice says why) in a static Storybook;
 * under the story tests a missing Relay is a failure, never a silent pass.
 */
export function live<C extends { loaded: Record<string, unknown> }>(
  play: (context: C) => Promise<void>,
): (context: C) => Promise<void> {
  return async (context) => {
    if (!(context.loaded as Partial<LiveLoaded>).relay) {
      if (import.meta.env.MODE === 'test') {
        throw new Error(
          'The story tests expect the dev Relay at the page origin (relaycall() in .storybook/main.ts), but its token endpoint did not answer.',
        );
      }
      return;
    }
    await play(context);
  };
}

/** What a live story shows where there is no Relay (the static build). */
export function RelayNeeded({ story }: { story: string }) {
  return (
    <section className="story-relay-needed" role="note" aria-label="This story needs a Relay">
      <h2>This story calls through a live Relay</h2>
      <p>
        <strong>{story}</strong> connects to a real Relay, so it needs the development Relay that{' '}
        <code>npm start</code> runs inside Storybook's own dev server (the <code>relaycall()</code>{' '}
        Vite plugin from <code>relaycall/vite</code>). This is a static build: it has no Relay.
      </p>
      <p>Run Storybook locally, then open this story there:</p>
      <pre>
        <code>
          {[
            'git clone <this repository> relaycall && cd relaycall',
            'npm install',
            'npm start   # Storybook with a live Relay on http://127.0.0.1:6006',
          ].join('\n')}
        </code>
      </pre>
      <p>
        Two browser tabs can then call each other: open the <em>Phone</em> story in one as{' '}
        <code>?args=resource:alice</code> and in another as <code>?args=resource:bob</code>.
      </p>
    </section>
  );
}
