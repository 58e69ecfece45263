export interface PageEventHandlers {
  /** The browser is back online. */
  online(): void;
  /** The page is hidden for good, or enters the back/forward cache. */
  pagehide(): void;
  /** The page is restored from the back/forward cache. */
  restored(): void;
}

/** The page lifecycle events the client follows (none where there is no window: Node, SSR). */
export class PageEvents {
  private readonly onOnline = () => this.handlers.online();
  private readonly onPageHide = () => this.handlers.pagehide();
  private readonly onPageShow = (event: Event) => {
    if ((event as PageTransitionEvent).persisted) this.handlers.restored();
  };

  constructor(private readonly handlers: PageEventHandlers) {}

  /** Listens (again: listeners are added once); `pageLifecycle`: pagehide and pageshow too. */
  listen(pageLifecycle: boolean): void {
    globalThis.addEventListener?.('online', this.onOnline);
    if (pageLifecycle) {
      globalThis.addEventListener?.('pagehide', this.onPageHide);
      globalThis.addEventListener?.('pageshow', this.onPageShow);
    }
  }

  stop(): void {
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('pagehide', this.onPageHide);
    globalThis.removeEventListener?.('pageshow', this.onPageShow);
  }
}
