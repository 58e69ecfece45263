/**
 * A stand-in for the browser's camera permission prompt. While it is mounted,
 * `navigator.mediaDevices.getUserMedia` waits until Allow (or Block) is pressed, as it does while
 * a real prompt is open: that is how long a call stays `dialing`, or an answer `connecting`.
 * (The test browser grants the fake camera at once, so the wait is simulated here; the call,
 * the Relay and the camera behind it are real.)
 */
import { useEffect, useState, useSyncExternalStore } from 'react';

interface Waiting {
  constraints: MediaStreamConstraints | undefined;
  resolve: (stream: MediaStream) => void;
  reject: (error: unknown) => void;
}

class PermissionGate {
  private waiting: Waiting[] = [];
  private readonly listeners = new Set<() => void>();
  private original: MediaDevices['getUserMedia'] | null = null;

  readonly subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly pending = (): number => this.waiting.length;

  install(): () => void {
    const devices = navigator.mediaDevices;
    const original = devices.getUserMedia.bind(devices);
    this.original = original;
    Object.defineProperty(devices, 'getUserMedia', {
      configurable: true,
      writable: true,
      value: (constraints?: MediaStreamConstraints) =>
        new Promise<MediaStream>((resolve, reject) => {
          this.waiting = [...this.waiting, { constraints, resolve, reject }];
          this.notify();
        }),
    });
    return () => {
      // Back to the prototype's getUserMedia; whatever still waits is refused.
      delete (devices as Partial<MediaDevices>).getUserMedia;
      this.original = null;
      this.settle((waiting) => waiting.reject(denied()));
    };
  }

  allow = () => {
    const original = this.original;
    if (original) this.settle((w) => void original(w.constraints).then(w.resolve, w.reject));
  };

  block = () => this.settle((waiting) => waiting.reject(denied()));

  private settle(each: (waiting: Waiting) => void) {
    const waiting = this.waiting;
    this.waiting = [];
    waiting.forEach(each);
    this.notify();
  }

  private notify() {
    for (const listener of this.listeners) listener();
  }
}

const denied = () => new DOMException('Permission denied', 'NotAllowedError');

/** The simulated prompt; shown while a getUserMedia call waits for it. */
export function CameraPrompt() {
  const [gate] = useState(() => new PermissionGate());
  useEffect(() => gate.install(), [gate]);
  const pending = useSyncExternalStore(gate.subscribe, gate.pending);
  return (
    <div className="story-prompt" data-open={pending > 0 ? '' : undefined}>
      {pending > 0 ? (
        <div role="dialog" aria-label="Camera permission (simulated)">
          <p>
            <strong>{location.host}</strong> wants to use your camera and microphone
          </p>
          <button type="button" onClick={gate.allow}>
            Allow
          </button>{' '}
          <button type="button" onClick={gate.block}>
            Block
          </button>
        </div>
      ) : (
        <p>The browser's camera prompt (simulated) opens here when the camera is asked for.</p>
      )}
    </div>
  );
}
