import { mkdir, writeFile } from 'node:fs/promises';
import { markdownTable } from './table.mjs';

/** Writes bench/results/<mode>.json and the same tables as Markdown (<mode>.md) for the docs. */
export async function writeReport(report) {
  const dir = new URL('../results/', import.meta.url);
  await mkdir(dir, { recursive: true });
  const json = new URL(`${report.mode}.json`, dir);
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  const markdown = [
    measuredLine(report),
    ...Object.values(report.sections).flatMap((section) =>
      (section.tables ?? []).map(markdownTable),
    ),
  ].join('\n\n');
  const md = new URL(`${report.mode}.md`, dir);
  await writeFile(md, `${markdown}\n`);
  return [json.pathname, md.pathname];
}

/** One line for one run; for a file re-measured section by section, each section's date and machine. */
function measuredLine(report) {
  if (!report.sectionDates) {
    return `Measured ${report.date.slice(0, 10)} on ${report.machine.description}; \`${report.command}\`.`;
  }
  const sections = Object.keys(report.sections).map(
    (name) =>
      `${name} on ${report.sectionDates[name]?.slice(0, 10)} (${report.sectionMachines?.[name] ?? report.machine.description})`,
  );
  return `Measured section by section (\`${report.command} --only SECTION\`): ${sections.join('; ')}.`;
}
