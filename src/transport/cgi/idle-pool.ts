// Idle upstream connections kept for reuse (FastCGI FCGI_KEEP_CONN). A kept connection is watched
// while it waits: if the server closes it, errors, or sends anything unasked, it is dropped; after
// `idleMs` it is closed. The most recently used connection is handed out first (LIFO), so under
// light load the oldest ones time out and give their php-fpm workers back.
import type { Socket } from 'node:net';

interface Idle {
  socket: Socket;
  timer: NodeJS.Timeout;
  drop: () => void;
}

export class IdleSockets {
  private readonly idle: Idle[] = [];

  /** The caller caps how many connections exist (fastcgi.ts: the worker estimate); this list keeps them all. */
  constructor(private readonly idleMs: number) {}

  /** An idle connection, detached from the pool's watchers; undefined when none is kept. */
  take(): Socket | undefined {
    for (;;) {
      const entry = this.idle.pop();
      if (!entry) return undefined;
      this.unwatch(entry);
      if (!entry.socket.destroyed && entry.socket.readable && entry.socket.writable) {
        entry.socket.ref();
        return entry.socket;
      }
      entry.socket.destroy();
    }
  }

  /** Keeps a connection for reuse (a destroyed one is dropped). */
  put(socket: Socket): void {
    if (socket.destroyed) {
      socket.destroy();
      return;
    }
    const entry: Idle = {
      socket,
      timer: setTimeout(() => entry.drop(), this.idleMs),
      drop: () => {
        const i = this.idle.indexOf(entry);
        if (i !== -1) this.idle.splice(i, 1);
        this.unwatch(entry);
        socket.destroy();
      },
    };
    entry.timer.unref();
    socket.on('data', entry.drop);
    socket.on('end', entry.drop);
    socket.on('close', entry.drop);
    socket.on('error', entry.drop);
    // Reading stays on, so a close or stray bytes from the server are seen at once; a kept
    // connection alone does not keep the process alive.
    socket.resume();
    socket.unref();
    this.idle.push(entry);
  }

  closeAll(): void {
    for (const entry of this.idle.splice(0)) {
      this.unwatch(entry);
      entry.socket.destroy();
    }
  }

  private unwatch(entry: Idle): void {
    clearTimeout(entry.timer);
    entry.socket.off('data', entry.drop);
    entry.socket.off('end', entry.drop);
    entry.socket.off('close', entry.drop);
    entry.socket.off('error', entry.drop);
  }
}
