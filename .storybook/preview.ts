import type { Preview } from '@storybook/react-vite';
import 'relaycall/styles.css';

type ArgTypesEnhancer = NonNullable<Preview['argTypesEnhancers']>[number];
interface DocgenProps {
  __docgenInfo?: { props?: Record<string, { tsType?: { name: string; raw?: string } }> };
}

/**
 * The props table's type column as the prop's TypeScript type is written (`MediaStream | null`,
 * `Partial<VideoTileLabels>`, `'all' | 'relay'`) where Storybook shows only its kind (`union`,
 * `Partial`) for react-docgen's types (see `reactDocgen` in main.ts).
 */
const typesAsWritten: ArgTypesEnhancer = ({ argTypes, component }) => {
  const props = (component as DocgenProps | undefined)?.__docgenInfo?.props;
  if (!props) return argTypes;
  return Object.fromEntries(
    Object.entries(argTypes).map(([name, argType]) => {
      const tsType = props[name]?.tsType;
      const type = argType.table?.type;
      // Long types keep Storybook's short summary (their detail is in the table anyway).
      if (!tsType?.raw || type?.summary !== tsType.name || tsType.raw.length > 90) {
        return [name, argType];
      }
      return [
        name,
        { ...argType, table: { ...argType.table, type: { ...type, summary: tsType.raw } } },
      ];
    }),
  );
};

const preview: Preview = {
  tags: ['autodocs'],
  argTypesEnhancers: [typesAsWritten],
  parameters: {
    layout: 'padded',
    controls: { expanded: true, sort: 'requiredFirst' },
    options: {
      storySort: {
        order: [
          'Introduction',
          'Phone',
          'Room',
          'Components',
          ['Dialer', 'VideoTile', 'RelayProvider'],
        ],
      },
    },
  },
};

export default preview;
