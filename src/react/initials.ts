/** Up to two uppercase initials of a name: "Alice Smith" → "AS", "bob" → "B", "+1 555" → "+". */
export function initials(name: string | undefined): string {
  const words = (name ?? '')
    .trim()
    .split(/[\s._@-]+/u)
    .filter(Boolean);
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? '');
  return letters.join('').toLocaleUpperCase();
}
