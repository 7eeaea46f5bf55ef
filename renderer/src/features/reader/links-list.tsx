/**
 * The message's links, outside the sandbox: each with its real target (shown on hover and focus
 * alike, since it is written out), and a warning when the link's text shows another host than it
 * goes to. Opening goes through the system browser (Electron) or a new tab.
 */
import { Icon } from '../../components/icons';
import { hostShownInText } from './link-check';
import type { MailLink } from './sanitize';

export function LinksList({ links, onMailto }: { links: MailLink[]; onMailto(address: string): void }) {
  if (links.length === 0) return null;
  const deceptive = links.filter((link) => link.deceptive).length;
  return (
    <details className="links" open={deceptive > 0}>
      <summary>
        <Icon name="link" size={16} /> Links in this message ({links.length})
        {deceptive > 0 && (
          <span className="links__warning-count">
            <Icon name="warning" size={14} /> {deceptive} {deceptive === 1 ? 'looks' : 'look'} deceptive
          </span>
        )}
      </summary>
      <ol className="links__list">
        {links.map((link, index) => (
          <li key={`${index}-${link.href}`} className={link.deceptive ? 'link-item link-item--deceptive' : 'link-item'}>
            <span className="link-item__number">{index + 1}</span>
            <div className="link-item__body">
              <span className="link-item__text">{link.text || '(no text)'}</span>
              {link.href.startsWith('mailto:') ? (
                <button
                  type="button"
                  className="link-item__target button--link"
                  onClick={() => onMailto(decodeURIComponent(link.href.slice('mailto:'.length).split('?')[0]))}
                >
                  Write to {decodeURIComponent(link.href.slice('mailto:'.length).split('?')[0])}
                </button>
              ) : (
                <a
                  className="link-item__target"
                  href={link.href}
                  target="_blank"
                  rel="noopener noreferrer"
                  title={link.href}
                >
                  {link.href}
                </a>
              )}
              {link.deceptive && (
                <p className="link-item__warning" role="note">
                  <Icon name="warning" size={14} /> The text shows {hostShownInText(link.text)}, but the link goes to{' '}
                  <strong>{link.host}</strong>. This is a common trick in phishing mail.
                </p>
              )}
            </div>
          </li>
        ))}
      </ol>
    </details>
  );
}
