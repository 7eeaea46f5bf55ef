/** Renderer entry: connects to the service (IPC in Electron, WebSocket in browser mode) and renders the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectToService } from './api/select-transport';
import { ServiceProvider } from './api/service-context';
import { App } from './app/app';
import './app/theme.css';
import './components/components.css';
import './app/app.css';
import './app/pages.css';
import { applyStoredTheme } from './features/status/theme';

applyStoredTheme();

const rootElement = document.getElementById('root');
if (rootElement === null) throw new Error('index.html has no #root element.');

createRoot(rootElement).render(
  <StrictMode>
    <ServiceProvider connection={connectToService(window)}>
      <App />
    </ServiceProvider>
  </StrictMode>,
);
