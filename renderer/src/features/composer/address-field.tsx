/**
 * A to/cc/bcc field that completes addresses known from stored mail (suggestAddresses) as the
 * user types the current recipient: an ARIA 1.2 combobox with a listbox popup. Arrows move
 * through the suggestions, Enter or Tab picks one, Escape closes the list (not the composer).
 */
import { useEffect, useId, useRef, useState, type Ref } from 'react';
import type { AddressSuggestion } from '../../../../shared/api';
import { useMailApi } from '../../api/service-context';
import { Field } from '../../components/field';
import { formatRecipient } from './compose-draft';

const SUGGESTION_DELAY_MS = 120;
const SUGGESTION_LIMIT = 8;

/** The recipient being typed: what follows the last separator. */
export function currentToken(value: string): { start: number; text: string } {
  const start = Math.max(value.lastIndexOf(','), value.lastIndexOf(';')) + 1;
  return { start, text: value.slice(start).trim() };
}

/** The value with the recipient being typed replaced by the chosen address, ready for the next. */
export function completeWith(value: string, suggestion: AddressSuggestion): string {
  const { start } = currentToken(value);
  const before = value.slice(0, start);
  return `${before}${before === '' ? '' : ' '}${formatRecipient(suggestion)}, `;
}

export function AddressField({
  label,
  value,
  onChange,
  error,
  hint,
  accountId,
  inputRef,
}: {
  label: string;
  value: string;
  onChange(value: string): void;
  error?: string;
  hint?: string;
  accountId: string;
  inputRef?: Ref<HTMLInputElement>;
}) {
  const api = useMailApi();
  const listId = useId();
  const [suggestions, setSuggestions] = useState<AddressSuggestion[]>([]);
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const [query, setQuery] = useState<string | null>(null);
  const request = useRef(0);

  useEffect(() => {
    if (query === null || query.length === 0) {
      setSuggestions([]);
      return;
    }
    const ticket = ++request.current;
    const timer = setTimeout(() => {
      api
        .suggestAddresses({ query, limit: SUGGESTION_LIMIT, accountId: null })
        .then((found) => {
          if (ticket !== request.current) return;
          // Addresses already in the field are not offered again.
          const present = value.toLowerCase();
          const fresh = found.filter((entry) => !present.includes(`${entry.address.toLowerCase()}`));
          setSuggestions(fresh);
          setActive(0);
          setOpen(fresh.length > 0);
        })
        .catch(() => {
          if (ticket === request.current) setSuggestions([]);
        });
    }, SUGGESTION_DELAY_MS);
    return () => clearTimeout(timer);
    // `value` is read for filtering only; the query drives the lookup.
  }, [api, query, accountId]);

  const expanded = open && suggestions.length > 0;
  const optionId = (index: number) => `${listId}-option-${index}`;

  function pick(suggestion: AddressSuggestion) {
    onChange(completeWith(value, suggestion));
    setOpen(false);
    setSuggestions([]);
    setQuery(null);
  }

  return (
    <Field label={label} error={error} hint={hint} className="address-field">
      {(control) => (
        <div className="address-field__box">
          <input
            {...control}
            ref={inputRef}
            className="input"
            type="text"
            autoComplete="off"
            spellCheck={false}
            role="combobox"
            aria-autocomplete="list"
            aria-expanded={expanded}
            aria-controls={expanded ? listId : undefined}
            aria-activedescendant={expanded ? optionId(active) : undefined}
            value={value}
            onChange={(event) => {
              onChange(event.target.value);
              setQuery(currentToken(event.target.value).text);
            }}
            onBlur={() => setOpen(false)}
            onKeyDown={(event) => {
              if (event.key === 'ArrowDown' && suggestions.length > 0) {
                event.preventDefault();
                if (!expanded) setOpen(true);
                else setActive((index) => (index + 1) % suggestions.length);
              } else if (event.key === 'ArrowUp' && expanded) {
                event.preventDefault();
                setActive((index) => (index - 1 + suggestions.length) % suggestions.length);
              } else if ((event.key === 'Enter' || event.key === 'Tab') && expanded && !event.shiftKey) {
                if (event.ctrlKey || event.metaKey) return;
                event.preventDefault();
                event.stopPropagation();
                pick(suggestions[active]);
              } else if (event.key === 'Escape' && expanded) {
                event.preventDefault();
                event.stopPropagation();
                setOpen(false);
              }
            }}
          />
          {expanded && (
            <ul id={listId} role="listbox" aria-label="Suggested addresses" className="address-field__list">
              {suggestions.map((suggestion, index) => (
                <li
                  key={suggestion.address}
                  id={optionId(index)}
                  role="option"
                  aria-selected={index === active}
                  className="address-field__option"
                  // Before the input's blur, so the click lands.
                  onMouseDown={(event) => {
                    event.preventDefault();
                    pick(suggestion);
                  }}
                  onMouseEnter={() => setActive(index)}
                >
                  {suggestion.name !== '' && <span className="address-field__name">{suggestion.name}</span>}
                  <span className="address-field__address">{suggestion.address}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </Field>
  );
}
