/**
 * Up to two uppercase initials of a name, from its words that start with a letter: "Alice Smith"
 * → "AS", "bob" → "B", "Émile Zola" → "ÉZ". A name without such words ("+1 555 0100", "") has
 * none: "" (VideoTile shows a person icon instead).
 */
export function initials(name: string | undefined): string {
  const words = (name ?? '')
    .trim()
    .split(/[\s._@-]+/u)
    .filter((word) => /^\p{L}/u.test(word));
  const letters = words.slice(0, 2).map((word) => Array.from(word)[0] ?? '');
  return letters.join('').toLocaleUpperCase();
}
