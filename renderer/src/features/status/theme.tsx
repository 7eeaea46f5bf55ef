/** Light, dark, or whatever the system says: remembered on this computer, applied to <html data-theme>. */
import { useEffect, useState } from 'react';
import { Icon } from '../../components/icons';

export type ThemeChoice = 'system' | 'light' | 'dark';
const THEME_KEY = 'whereabouts.theme';

function readTheme(): ThemeChoice {
  try {
    const stored = localStorage.getItem(THEME_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}

export function applyStoredTheme(): void {
  const theme = readTheme();
  if (theme === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'light', light: 'dark', dark: 'system' };
const LABEL: Record<ThemeChoice, string> = {
  system: 'Theme: as the system',
  light: 'Theme: light',
  dark: 'Theme: dark',
};

export function ThemeToggle() {
  const [theme, setTheme] = useState<ThemeChoice>(readTheme);
  useEffect(() => {
    try {
      if (theme === 'system') localStorage.removeItem(THEME_KEY);
      else localStorage.setItem(THEME_KEY, theme);
    } catch {
      // Applied for this session only.
    }
    applyStoredTheme();
  }, [theme]);
  return (
    <button
      type="button"
      className="icon-button"
      onClick={() => setTheme(NEXT[theme])}
      aria-label={`${LABEL[theme]}. Change theme`}
      title={LABEL[theme]}
    >
      <Icon name={theme === 'dark' ? 'moon' : theme === 'light' ? 'sun' : 'computer'} />
    </button>
  );
}
