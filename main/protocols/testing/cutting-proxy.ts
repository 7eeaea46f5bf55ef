/**
 * A loopback proxy in front of a plain listener that cuts the client's connection at a chosen
 * moment: what a real server will not do on request. `cutWhen` sees what the client sent so far;
 * `forwardTrigger` says whether the bytes that triggered the cut still reach the server (so the
 * server acts on them while the client never hears back — e.g. SMTP's final "." of DATA).
 */
import net from 'node:net';

export async function startCuttingProxy(
  target: { host: string; port: number },
  cutWhen: (clientBytes: string) => boolean,
  forwardTrigger: boolean,
): Promise<{ port: number; close: () => void }> {
  const proxy = net.createServer((client) => {
    const server = net.connect(target);
    let seen = '';
    let cut = false;
    server.on('data', (chunk) => {
      if (!cut) client.write(chunk);
    });
    client.on('data', (chunk: Buffer) => {
      if (cut) return;
      seen += chunk.toString('latin1');
      if (cutWhen(seen)) {
        cut = true;
        if (forwardTrigger) server.write(chunk);
        client.destroy();
        return;
      }
      server.write(chunk);
    });
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.on('close', () => {
      if (!forwardTrigger) server.destroy();
      else setTimeout(() => server.destroy(), 2_000);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return { port: (proxy.address() as net.AddressInfo).port, close: () => proxy.close() };
}
