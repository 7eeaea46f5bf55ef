/** A plain-text part: wrapped, quoted lines set apart, and web addresses as links that show their target. */
import type { ReactNode } from 'react';

const WEB_ADDRESS = /\bhttps?:\/\/[^\s<>"'()]+[^\s<>"'().,;:!?]/g;

function linkify(line: string): ReactNode[] {
  const nodes: ReactNode[] = [];
  let last = 0;
  for (const match of line.matchAll(WEB_ADDRESS)) {
    const start = match.index ?? 0;
    if (start > last) nodes.push(line.slice(last, start));
    nodes.push(
      <a key={start} href={match[0]} target="_blank" rel="noopener noreferrer" title={match[0]}>
        {match[0]}
      </a>,
    );
    last = start + match[0].length;
  }
  if (last < line.length) nodes.push(line.slice(last));
  return nodes;
}

export function PlainText({ text }: { text: string }) {
  const blocks: { quoted: boolean; lines: string[] }[] = [];
  for (const line of text.replace(/\r\n/g, '\n').split('\n')) {
    const quoted = /^\s*>/.test(line);
    const current = blocks[blocks.length - 1];
    if (current !== undefined && current.quoted === quoted) current.lines.push(line);
    else blocks.push({ quoted, lines: [line] });
  }
  return (
    <div className="text-part">
      {blocks.map((block, index) =>
        block.quoted ? (
          <blockquote key={index} className="text-part__quote">
            {block.lines.map((line, lineIndex) => (
              <span key={lineIndex}>
                {lineIndex > 0 && '\n'}
                {linkify(line)}
              </span>
            ))}
          </blockquote>
        ) : (
          <div key={index}>
            {block.lines.map((line, lineIndex) => (
              <span key={lineIndex}>
                {lineIndex > 0 && '\n'}
                {linkify(line)}
              </span>
            ))}
          </div>
        ),
      )}
    </div>
  );
}
