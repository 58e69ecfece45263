import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { VideoTile, type VideoTileProps } from 'relaycall';
import { expect, waitFor, within } from 'storybook/test';
import { expectLiveVideo } from './support/play.js';
import { syntheticMedia } from './support/syntheticMedia.js';
import './support/stories.css';

/** Where the tile's stream comes from in a story (none of these needs a Relay). */
type Source = 'none' | 'camera' | 'remote' | 'synthetic';

type TileArgs = VideoTileProps & {
  /**
   * The stream shown: `camera` (getUserMedia), `remote` (received over a peer connection
   * inside this page), `synthetic` (a canvas), or `none`.
   */
  source: Source;
};

/** A stream received over a pair of RTCPeerConnections in this page: a real remote stream. */
async function loopback(source: MediaStream, cleanups: (() => void)[]): Promise<MediaStream> {
  const sender = new RTCPeerConnection({ iceServers: [] });
  const receiver = new RTCPeerConnection({ iceServers: [] });
  cleanups.push(
    () => sender.close(),
    () => receiver.close(),
  );
  sender.onicecandidate = (event) => void receiver.addIceCandidate(event.candidate ?? undefined);
  receiver.onicecandidate = (event) => void sender.addIceCandidate(event.candidate ?? undefined);
  const received = new Promise<MediaStream>((resolve) => {
    receiver.ontrack = (event) => {
      if (event.streams[0]) resolve(event.streams[0]);
    };
  });
  for (const track of source.getTracks()) sender.addTrack(track, source);
  await sender.setLocalDescription();
  await receiver.setRemoteDescription(sender.localDescription!);
  await receiver.setLocalDescription();
  await sender.setRemoteDescription(receiver.localDescription!);
  return received;
}

async function open(source: Source, cleanups: (() => void)[]): Promise<MediaStream | null> {
  if (source === 'none') return null;
  if (source === 'camera') {
    const stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
    cleanups.push(() => stream.getTracks().forEach((track) => track.stop()));
    return stream;
  }
  const media = syntheticMedia(
    source === 'remote' ? 'Bob' : 'Alice',
    source === 'remote' ? 150 : 280,
  );
  cleanups.push(() => media.stop());
  return source === 'remote' ? loopback(media.stream, cleanups) : media.stream;
}

/** Opens `source` while mounted and hands its stream to the tile. */
function SourcedTile({ source, ...props }: TileArgs) {
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const cleanups: (() => void)[] = [];
    let current = true;
    open(source, cleanups).then(
      (opened) => current && setStream(opened),
      (reason: unknown) => current && setError(String(reason)),
    );
    return () => {
      current = false;
      cleanups.forEach((cleanup) => cleanup());
    };
  }, [source]);
  return (
    <div style={{ width: '20rem' }}>
      <VideoTile {...props} stream={stream} />
      {error && (
        <p role="alert">
          Could not open the {source}: {error}
        </p>
      )}
    </div>
  );
}

/**
 * Refuses `play()` for the videos inside it unless called while handling a click, as a browser
 * does when autoplay is not allowed (no user gesture yet). Only this story's videos are affected.
 */
function AutoplayPolicy({ children }: { children: ReactNode }) {
  const root = useRef<HTMLDivElement>(null);
  // A layout effect: in place before the tile's own effect asks to play.
  useLayoutEffect(() => {
    const original = HTMLMediaElement.prototype.play;
    HTMLMediaElement.prototype.play = function play(this: HTMLMediaElement) {
      if (!root.current?.contains(this) || window.event?.type === 'click') {
        return original.call(this);
      }
      // Refused elements do not start by themselves either.
      this.autoplay = false;
      return Promise.reject(
        new DOMException(
          "play() failed because the user didn't interact with the document first.",
          'NotAllowedError',
        ),
      );
    };
    return () => {
      HTMLMediaElement.prototype.play = original;
    };
  }, []);
  return <div ref={root}>{children}</div>;
}

/**
 * A `<video>` bound to a stream. These stories need no Relay: the streams come from the camera
 * (the browser asks first), a canvas, or a peer connection inside the page.
 */
const meta = {
  title: 'Components/VideoTile',
  component: VideoTile,
  args: { source: 'synthetic', stream: null, label: 'Alice Example' },
  argTypes: {
    source: { control: 'select', options: ['none', 'camera', 'remote', 'synthetic'] },
    stream: { control: false },
    sinkId: { control: 'text' },
    labels: { control: 'object' },
  },
  render: (args) => <SourcedTile key={args.source} {...args} />,
} satisfies Meta<TileArgs>;

export default meta;
type Story = StoryObj<typeof meta>;

const videoIn = (root: HTMLElement) => {
  const video = root.querySelector('video');
  if (!video) throw new Error('no <video> in the tile');
  return video;
};

/**
 * The story tests' browser lets videos with sound start on their own; a person's browser may
 * not, until they click in the page. There the tile offers its Play button, and the play
 * function stops at it (true), leaving the click to the person: a click from a play function
 * carries no user activation, so the browser would refuse it too. Under test: false.
 */
async function autoplayRefused(root: HTMLElement): Promise<boolean> {
  if (import.meta.env.MODE === 'test') return false;
  const video = videoIn(root);
  return waitFor(
    () => {
      if (within(root).queryByRole('button', { name: 'Play' })) return true;
      expect(video.paused).toBe(false);
      return false;
    },
    { timeout: 10_000 },
  );
}

/** Your own camera as a local preview: muted (no echo) and mirrored. */
export const LiveLocalCamera: Story = {
  args: { source: 'camera', label: 'You', local: true },
  play: async ({ canvasElement }) => {
    const figure = canvasElement.querySelector('figure')!;
    await waitFor(() => expect(figure).toHaveAttribute('data-video', 'on'), { timeout: 10_000 });
    await expect(figure).toHaveAttribute('data-mirrored');
    const video = videoIn(canvasElement);
    await expect(video.muted).toBe(true);
    await expectLiveVideo(video);
  },
};

/** Someone else's video, received over a peer connection: not mirrored, sound on. */
export const Remote: Story = {
  args: { source: 'remote', label: 'Bob Example' },
  play: async ({ canvasElement }) => {
    const figure = canvasElement.querySelector('figure')!;
    await waitFor(() => expect(figure).toHaveAttribute('data-video', 'on'), { timeout: 10_000 });
    await expect(figure).not.toHaveAttribute('data-mirrored');
    const video = videoIn(canvasElement);
    await expect(video.muted).toBe(false);
    await expect(within(canvasElement).getByText('Bob Example')).toBeVisible();
    if (await autoplayRefused(canvasElement)) return;
    await expectLiveVideo(video);
  },
};

/** No stream (nobody in the call yet): the initials of the label. */
export const NoVideo: Story = {
  args: { source: 'none', label: 'Alice Example' },
  play: async ({ canvasElement }) => {
    const figure = canvasElement.querySelector('figure')!;
    await expect(figure).toHaveAttribute('data-video', 'off');
    await expect(within(figure).getByText('AE')).toBeVisible();
  },
};

/**
 * No stream and no label (no call yet, no one to name), or a label without letters such as a
 * phone number: a person icon instead of initials.
 */
export const Nobody: Story = {
  args: { source: 'none', label: '' },
  play: async ({ canvasElement }) => {
    const figure = canvasElement.querySelector('figure')!;
    await expect(figure).toHaveAttribute('data-video', 'off');
    const placeholder = figure.querySelector('.relaycall-video__placeholder')!;
    await expect(placeholder.querySelector('svg.relaycall-video__person')).toBeVisible();
    await expect(placeholder).toHaveTextContent(/^$/);
    await expect(figure.querySelector('figcaption')).toBeNull();
  },
};

/** A live stream whose sender turned the camera off (`videoMuted`): the placeholder shows. */
export const CameraOff: Story = {
  args: { source: 'synthetic', label: 'Alice Example', videoMuted: true },
  play: async ({ canvasElement }) => {
    const figure = canvasElement.querySelector('figure')!;
    await waitFor(() => expect(videoIn(canvasElement).srcObject).not.toBeNull());
    await expect(figure).toHaveAttribute('data-video', 'off');
    await expect(within(figure).getByText('AE')).toBeVisible();
  },
};

/** The microphone is muted: the indicator shows and the element is muted. */
export const Muted: Story = {
  args: { source: 'synthetic', label: 'Alice Example', muted: true },
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    await expect(canvas.getByRole('img', { name: 'Microphone muted' })).toBeVisible();
    await expect(videoIn(canvasElement).muted).toBe(true);
  },
};

/**
 * The browser refused to autoplay (simulated for this story: `play()` is refused until a click):
 * the tile offers a Play button, and pressing it plays.
 */
export const AutoplayBlocked: Story = {
  args: { source: 'synthetic', label: 'Alice Example' },
  render: (args) => (
    <AutoplayPolicy>
      <SourcedTile key={args.source} {...args} />
    </AutoplayPolicy>
  ),
  play: async ({ canvasElement, userEvent }) => {
    const canvas = within(canvasElement);
    const play = await canvas.findByRole('button', { name: 'Play' }, { timeout: 10_000 });
    await expect(videoIn(canvasElement).paused).toBe(true);
    // Outside the story tests the browser refuses a click without user activation: the person
    // presses Play (see autoplayRefused).
    if (import.meta.env.MODE !== 'test') return;
    await userEvent.click(play);
    await waitFor(() => expect(canvas.queryByRole('button', { name: 'Play' })).toBeNull());
    await expectLiveVideo(videoIn(canvasElement));
  },
};
