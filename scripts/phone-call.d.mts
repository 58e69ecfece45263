import type { BrowserContext, Page } from 'playwright';

export declare const repo: string;
export declare const chromiumPath: string;
export declare const chromiumArgs: string[];
export declare function freePort(): Promise<number>;
export declare function startArgs(port: number): Promise<string[]>;

export interface RunningStorybook {
  url: string;
  pid: number | undefined;
  /** The `storybook dev` arguments used (npm start's, with this port). */
  args: string[];
  readyMs: number;
  output(): string;
  stop(): Promise<void>;
}
export declare function startStorybook(
  port: number,
  options?: { timeoutMs?: number },
): Promise<RunningStorybook>;

export declare function phoneUrl(base: string, resource: string, callee: string): string;
export declare function openPhone(
  context: BrowserContext,
  base: string,
  resource: string,
  callee: string,
  problems?: string[],
): Promise<Page>;
export declare function waitForStatus(page: Page, text: string, timeout?: number): Promise<void>;
export declare function remoteVideo(page: Page): ReturnType<Page['locator']>;
export declare function liveRemoteVideo(
  page: Page,
  options?: { timeout?: number; gapMs?: number },
): Promise<{ width: number; height: number; before: number; after: number }>;
export declare function placeCall(
  alice: Page,
  bob: Page,
  names?: { alice: string; bob: string },
): Promise<Record<string, number>>;
