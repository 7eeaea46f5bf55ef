/**
 * User text → an FTS5 query that cannot be a syntax error. Every term becomes a quoted string
 * (FTS5 §3.1: inside double quotes only `"` is special, and it is doubled), so operators,
 * parentheses, column filters and stray quotes in what the user typed are searched for as text,
 * never interpreted. Terms are ANDed; the last one is a prefix (`"term"*`) so results appear
 * while the user is still typing.
 */

/** Terms beyond this are ignored: a pasted paragraph must not build a huge query. */
export const MAX_QUERY_TERMS = 16;

export function buildFtsQuery(text: string, options: { prefixLast?: boolean } = {}): string | null {
  const prefixLast = options.prefixLast ?? true;
  const terms = text
    .normalize('NFKC')
    .split(/\s+/)
    // A term without a letter or digit tokenizes to nothing and would match nothing.
    .filter((term) => /[\p{L}\p{N}]/u.test(term))
    .slice(0, MAX_QUERY_TERMS);
  if (terms.length === 0) return null;
  return terms
    .map((term, index) => {
      const quoted = `"${term.replace(/"/g, '""')}"`;
      return prefixLast && index === terms.length - 1 ? `${quoted}*` : quoted;
    })
    .join(' ');
}
