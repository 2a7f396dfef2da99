import * as net from "node:net";
import type { Listener, ListenOptions, Socket, SocketEvents, Transport } from "../src/socket.ts";

class NodeSocket implements Socket {
  #s: net.Socket;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  constructor(s: net.Socket) {
    this.#s = s;
    this.remoteAddress = s.remoteAddress ?? "";
    this.remotePort = s.remotePort ?? 0;
    this.localAddress = s.localAddress ?? "";
    this.localPort = s.localPort ?? 0;
  }
  start(ev: SocketEvents): void {
    const s = this.#s;
    s.on("data", (b: Buffer) => ev.data(b));
    s.on("drain", () => ev.drain());
    s.on("end", () => ev.end());
    s.on("error", () => {});
    s.on("close", () => ev.close());
  }
  write(bytes: Uint8Array): boolean {
    return this.#s.write(bytes);
  }
  pause(): void {
    this.#s.pause();
  }
  resume(): void {
    this.#s.resume();
  }
  end(): void {
    this.#s.end();
  }
  destroy(): void {
    this.#s.destroy();
  }
}

export const nodeTransport: Transport = {
  runtime: "node",
  listen(options: ListenOptions, onSocket: (s: Socket) => void): Promise<Listener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (s) => onSocket(new NodeSocket(s)));
      server.once("error", reject);
      server.listen({ host: options.hostname, port: options.port, reusePort: options.reusePort } as net.ListenOptions, () => {
        const a = server.address() as net.AddressInfo;
        resolve({ address: { hostname: a.address, port: a.port }, close: () => server.close() });
      });
    });
  },
};
