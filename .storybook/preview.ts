import type { Preview } from '@storybook/react-vite';
import 'relaycall/styles.css';

const preview: Preview = {
  tags: ['autodocs'],
  parameters: {
    layout: 'padded',
    controls: { expanded: true, sort: 'requiredFirst' },
    options: {
      storySort: {
        order: ['Introduction', 'Phone', 'Components', ['Dialer', 'VideoTile', 'RelayProvider']],
      },
    },
  },
};

export default preview;
