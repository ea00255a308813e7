/**
 * PostgreSQL's CancelRequest, as the wire protocol (3.0) defines it: a new connection to the same host and port
 * carrying 16 bytes — length 16, the code 80877102, the backend's process ID and secret key (from BackendKeyData,
 * which node-postgres keeps as client.processID and client.secretKey) — and no answer. PostgreSQL closes that
 * connection once it has signalled the backend; the query then fails with 57014.
 *
 * Why this and not `SELECT pg_cancel_backend(pid)`: behind PgBouncer in transaction mode a connection has no fixed
 * backend (the pid read in one transaction may run another client's query by the next), while PgBouncer routes a
 * CancelRequest itself, with its own keys, to whichever backend its client is linked to. node-postgres can send one
 * (its undocumented Client#cancel), but cannot tell when it has been delivered; here that moment is the promise.
 */
import { connect } from 'node:net';

/** Where a connection's backend can be reached, and the keys that name it. */
export interface CancelTarget {
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

const CANCEL_REQUEST_CODE = 80877102;

/**
 * Sends one CancelRequest; resolves once the other side has closed the connection (it has delivered the
 * request, or dropped it), rejects on a connection error. After `timeoutMs` without that close it gives up and
 * closes the connection itself.
 *
 * The connection is never ended from this side while it is open: PgBouncer 1.18 (Debian 12's) takes an early
 * close of a cancel connection as "client unexpected eof" and then exits with "bad client state" (its issue #801,
 * fixed in 1.19.1), taking every client with it. So write, and wait for the other side.
 */
export function sendCancelRequest({ host, port, processID, secretKey }: CancelTarget, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const packet = Buffer.alloc(16);
    packet.writeInt32BE(16, 0);
    packet.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    packet.writeInt32BE(processID, 8);
    packet.writeInt32BE(secretKey, 12);
    // A host that is a folder is PostgreSQL's Unix socket there, as node-postgres reads it.
    const socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host);
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(packet));
    const giveUp = setTimeout(
      () => socket.destroy(new Error(`no answer to the cancel request within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', (error) => {
      clearTimeout(giveUp);
      reject(error);
    });
    socket.on('end', () => socket.destroy());
    socket.on('close', (hadError) => {
      clearTimeout(giveUp);
      if (!hadError) resolve();
    });
    socket.resume();
  });
}
