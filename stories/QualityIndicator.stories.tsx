import type { Meta, StoryObj } from '@storybook/react-vite';
import { useEffect, useState } from 'react';
import {
  QualityIndicator,
  VideoTile,
  defaultQualityLabels,
  type NetworkQualityLevel,
} from 'relaycall';
import { expect, within } from 'storybook/test';
import { syntheticMedia } from './support/syntheticMedia.js';
import './support/stories.css';

const LEVELS: NetworkQualityLevel[] = ['excellent', 'good', 'fair', 'poor', 'lost'];

/**
 * Network-quality bars: `CallStats.networkQuality` (from `useCallStats` or `useRoomStats`)
 * shown as four bars with an accessible name. `VideoTile` places one in its corner when given
 * `quality`. The live Phone story shows it on the remote tile of a real call.
 */
const meta = {
  title: 'Components/QualityIndicator',
  component: QualityIndicator,
  args: { level: 'good' },
  argTypes: {
    level: { control: 'select', options: [...LEVELS, null] },
    labels: { control: 'object' },
  },
} satisfies Meta<typeof QualityIndicator>;

export default meta;
type Story = StoryObj<typeof meta>;

/** One level, picked with the controls. */
export const Indicator: Story = {
  play: async ({ canvasElement }) => {
    await expect(within(canvasElement).getByRole('img')).toHaveAccessibleName('Connection good');
  },
};

/** Every level, from four bars down to none. */
export const Levels: Story = {
  render: (args) => (
    <ul style={{ display: 'flex', gap: '1.5rem', listStyle: 'none', padding: 0 }}>
      {LEVELS.map((level) => (
        <li key={level} style={{ display: 'grid', justifyItems: 'center', gap: '0.25rem' }}>
          <QualityIndicator {...args} level={level} />
          <small>{level}</small>
        </li>
      ))}
    </ul>
  ),
  play: async ({ canvasElement }) => {
    const names = within(canvasElement)
      .getAllByRole('img')
      .map((img) => img.getAttribute('aria-label'));
    await expect(names).toEqual(LEVELS.map((level) => defaultQualityLabels[level]));
  },
};

/** A VideoTile with its `quality` prop, on a synthetic camera. */
function TileWithQuality({ level }: { level: NetworkQualityLevel | null | undefined }) {
  const [stream, setStream] = useState<MediaStream | null>(null);
  useEffect(() => {
    const media = syntheticMedia('Bob', 150);
    let current = true;
    // Handed over once the canvas runs, like a camera that opens asynchronously.
    void Promise.resolve().then(() => current && setStream(media.stream));
    return () => {
      current = false;
      media.stop();
    };
  }, []);
  return (
    <div style={{ width: '20rem' }}>
      <VideoTile stream={stream} label="Bob Example" quality={level} />
    </div>
  );
}

/** On a VideoTile: the bars sit in the top corner, opposite the muted indicator. */
export const OnVideoTile: Story = {
  args: { level: 'poor' },
  render: (args) => <TileWithQuality level={args.level} />,
  play: async ({ canvasElement }) => {
    const figure = canvasElement.querySelector('.relaycall-video');
    await expect(figure).not.toBeNull();
    await expect(within(figure as HTMLElement).getByRole('img')).toHaveAccessibleName(
      'Connection poor',
    );
  },
};
