/**
 * Hands the service client and the connection status to the component tree.
 */
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import type { MailApi } from '../../../shared/api';
import type { MailClient } from '../../../shared/rpc';
import type { ConnectionStatus } from './connection';
import type { ServiceConnection } from './select-transport';

const ServiceContext = createContext<ServiceConnection | null>(null);

export function ServiceProvider({ connection, children }: { connection: ServiceConnection; children: ReactNode }) {
  return <ServiceContext.Provider value={connection}>{children}</ServiceContext.Provider>;
}

function useServiceConnection(): ServiceConnection {
  const value = useContext(ServiceContext);
  if (value === null) throw new Error('useService must be used inside <ServiceProvider>.');
  return value;
}

export function useMailClient(): MailClient {
  return useServiceConnection().client;
}

export function useMailApi(): MailApi {
  return useServiceConnection().client.api;
}

export function useConnectionStatus(): { status: ConnectionStatus; retryNow(): void } {
  const { connection } = useServiceConnection();
  const [status, setStatus] = useState(connection.status());
  useEffect(() => {
    setStatus(connection.status());
    return connection.onStatusChange(setStatus);
  }, [connection]);
  return { status, retryNow: () => connection.retryNow() };
}
