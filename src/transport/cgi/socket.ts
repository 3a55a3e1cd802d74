// Sockets for the CGI-style transports (FastCGI, uwsgi, SCGI): where to connect (TCP `host:port`
// or a unix socket path), connecting under a timeout, and socket errors as UpstreamError codes.
import net from 'node:net';
import { CgiProtocolError } from './errors.js';
import { internalError } from '../internal-error.js';
import { UpstreamError } from '../types.js';

export type Endpoint = { path: string } | { host: string; port: number };

/** `127.0.0.1:9000`, `[::1]:9000`, or an absolute unix socket path. */
export function parseEndpoint(address: string): Endpoint {
  if (address.startsWith('/')) return { path: address };
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`upstream address "${address}" is neither host:port nor an absolute socket path`);
  }
  return { host, port };
}

/**
 * Connects; `done` gets the socket, or ECONNECT / ECONNECTTIMEOUT. The socket is returned at once so
 * that the caller can destroy it to give up (then `done` is never called). It keeps an error
 * listener that ignores, so a late error after destroy() never becomes an uncaught exception.
 */
export function connectSocket(
  endpoint: Endpoint,
  timeoutMs: number,
  done: (err: UpstreamError | undefined, socket: net.Socket) => void,
): net.Socket {
  const socket = 'path' in endpoint ? net.connect({ path: endpoint.path }) : net.connect({ host: endpoint.host, port: endpoint.port });
  const cleanup = (): void => {
    clearTimeout(timer);
    socket.off('connect', onConnect);
    socket.off('error', onError);
    socket.off('close', cleanup);
  };
  const onConnect = (): void => {
    cleanup();
    if ('host' in endpoint) socket.setNoDelay(true);
    done(undefined, socket);
  };
  const onError = (err: NodeJS.ErrnoException): void => {
    cleanup();
    socket.destroy();
    done(new UpstreamError('ECONNECT', `cannot connect to upstream: ${err.code ?? err.message}`, { cause: err }), socket);
  };
  const timer = setTimeout(() => {
    cleanup();
    socket.destroy();
    done(new UpstreamError('ECONNECTTIMEOUT', 'upstream connect timed out'), socket);
  }, timeoutMs);
  socket.on('error', () => undefined);
  socket.once('connect', onConnect);
  socket.once('error', onError);
  socket.once('close', cleanup);
  return socket;
}

/** An error on an established connection, or from a codec, as an UpstreamError. */
export function upstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const internal = err instanceof Error ? internalError(err) : undefined;
  if (internal) return internal;
  if (err instanceof CgiProtocolError) {
    // Vars the protocol cannot carry are refused before anything is sent; the rest is what came back.
    const sending = err.code === 'EUWSGIVARS' || err.code === 'ESCGIVARS';
    return new UpstreamError('EPROTO', `${sending ? 'cannot send the request' : 'invalid upstream response'}: ${err.message}`, { cause: err });
  }
  const e = err as NodeJS.ErrnoException;
  return new UpstreamError('ERESET', `upstream closed the connection: ${e.code ?? e.message}`, { cause: err });
}
