/** A loopback port nothing listens on, never one this process has handed out before. */
export function freePort(host?: string): Promise<number>;
