import { act, render, screen, waitFor } from '@testing-library/react';
import { userEvent } from '@testing-library/user-event';
import { VideoTile } from 'relaycall';
import { describe, expect, it, vi } from 'vitest';

// jsdom has no MediaStream: these stand-ins implement the parts VideoTile uses, with real events.
class TestTrack extends EventTarget {
  readyState: 'live' | 'ended' = 'live';
  enabled = true;
  muted = false;
  constructor(readonly kind: 'audio' | 'video') {
    super();
  }
  fire(type: 'mute' | 'unmute' | 'ended') {
    if (type === 'ended') this.readyState = 'ended';
    else this.muted = type === 'mute';
    this.dispatchEvent(new Event(type));
  }
}

class TestStream extends EventTarget {
  constructor(readonly tracks: TestTrack[]) {
    super();
  }
  getVideoTracks() {
    return this.tracks.filter((track) => track.kind === 'video');
  }
  getTracks() {
    return this.tracks;
  }
  change(type: 'addtrack' | 'removetrack', track: TestTrack) {
    if (type === 'addtrack') this.tracks.push(track);
    else this.tracks.splice(this.tracks.indexOf(track), 1);
    this.dispatchEvent(Object.assign(new Event(type), { track }));
  }
}

const asStream = (stream: TestStream) => stream as unknown as MediaStream;
const video = (container: HTMLElement) => container.querySelector('video')!;
const tile = (container: HTMLElement) => container.querySelector('.relaycall-video')!;

function stubPlay(result: () => Promise<void>) {
  return vi.spyOn(HTMLMediaElement.prototype, 'play').mockImplementation(result);
}

describe('VideoTile', () => {
  it('without a stream shows the initials of its label', () => {
    const { container } = render(<VideoTile stream={null} label="Alice Smith" />);
    expect(screen.getByText('AS')).toBeInTheDocument();
    expect(screen.getByText('Alice Smith').tagName).toBe('FIGCAPTION');
    expect(tile(container)).toHaveAttribute('data-video', 'off');
  });

  it('without a label, or with one that has no letters, shows a person icon for initials', () => {
    const { container, rerender } = render(<VideoTile stream={null} />);
    const placeholder = () => container.querySelector('.relaycall-video__placeholder')!;
    expect(placeholder().querySelector('svg.relaycall-video__person')).not.toBeNull();
    expect(placeholder().textContent).toBe('');
    expect(container.querySelector('figcaption')).toBeNull();

    rerender(<VideoTile stream={null} label="+1 555 0100" />);
    expect(placeholder().querySelector('svg.relaycall-video__person')).not.toBeNull();
    expect(placeholder().textContent).toBe('');
    expect(screen.getByText('+1 555 0100').tagName).toBe('FIGCAPTION');

    rerender(<VideoTile stream={null} label="Émile Zola" />);
    expect(placeholder().querySelector('svg')).toBeNull();
    expect(placeholder().textContent).toBe('ÉZ');
  });

  it('binds the stream to a playsinline autoplay <video> and follows its video track', () => {
    stubPlay(() => Promise.resolve());
    const camera = new TestTrack('video');
    const stream = new TestStream([new TestTrack('audio'), camera]);
    const { container } = render(<VideoTile stream={asStream(stream)} label="bob" />);
    expect(video(container).srcObject).toBe(stream);
    expect(video(container)).toHaveAttribute('playsinline');
    expect(video(container).autoplay).toBe(true);
    expect(screen.queryByText('B')).not.toBeInTheDocument();

    act(() => camera.fire('mute'));
    expect(screen.getByText('B')).toBeInTheDocument();
    act(() => camera.fire('unmute'));
    expect(screen.queryByText('B')).not.toBeInTheDocument();
    act(() => stream.change('removetrack', camera));
    expect(screen.getByText('B')).toBeInTheDocument();
    const second = new TestTrack('video');
    act(() => stream.change('addtrack', second));
    expect(tile(container)).toHaveAttribute('data-video', 'on');
    act(() => second.fire('ended'));
    expect(tile(container)).toHaveAttribute('data-video', 'off');
  });

  it('muted: shows the muted-microphone indicator and mutes the element', () => {
    const { container, rerender } = render(<VideoTile stream={null} label="bob" muted />);
    expect(screen.getByRole('img', { name: 'Microphone muted' })).toBeInTheDocument();
    expect(video(container).muted).toBe(true);
    rerender(<VideoTile stream={null} label="bob" muted={false} />);
    expect(screen.queryByRole('img', { name: 'Microphone muted' })).not.toBeInTheDocument();
    expect(video(container).muted).toBe(false);
  });

  it('local: a muted, mirrored preview without the indicator', () => {
    const { container } = render(<VideoTile stream={null} label="me" local />);
    expect(video(container).muted).toBe(true);
    expect(tile(container)).toHaveAttribute('data-mirrored');
    expect(screen.queryByRole('img', { name: 'Microphone muted' })).not.toBeInTheDocument();
  });

  it('offers a click-to-play button when autoplay is refused', async () => {
    const play = stubPlay(() =>
      Promise.reject(new DOMException('play() needs a user gesture', 'NotAllowedError')),
    );
    const stream = new TestStream([new TestTrack('video')]);
    render(<VideoTile stream={asStream(stream)} label="bob" />);
    const button = await screen.findByRole('button', { name: 'Play' });

    play.mockImplementation(() => Promise.resolve());
    await userEvent.setup().click(button);
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Play' })).toBeNull());
    expect(play).toHaveBeenCalledTimes(2);
  });

  it('shows no play button when playback was only interrupted (AbortError)', async () => {
    const play = stubPlay(() => Promise.reject(new DOMException('replaced', 'AbortError')));
    render(<VideoTile stream={asStream(new TestStream([new TestTrack('video')]))} />);
    await waitFor(() => expect(play).toHaveBeenCalled());
    // The tile's own handler of the refusal runs first (it was attached first): once this
    // one ran, inside act, whatever the tile made of it is rendered.
    await act(async () => {
      await (play.mock.results[0]?.value as Promise<void>).catch(() => undefined);
    });
    expect(screen.queryByRole('button', { name: 'Play' })).toBeNull();
  });
});
