import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files for a TLS test: a CA, and a server certificate it signed. */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
  /** The only name the server certificate is valid for (no IP address: clients must be told it). */
  serverName: string;
}

/** A throw-away CA and a server certificate for `serverName` (P-256 keys, valid two days), made with openssl in `dir`. */
export async function makeCertificates(dir: string, serverName = 'redis.test'): Promise<TlsFiles> {
  const f = (name: string) => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=unread-test-ca']);
  await run('openssl', ['req', ...ec, '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', `/CN=${serverName}`]);
  writeFileSync(f('server.ext'), `subjectAltName=DNS:${serverName}\n`);
  await run('openssl', ['x509', '-req', '-in', f('server.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext')]);
  return { ca: f('ca.crt'), cert: f('server.crt'), key: f('server.key'), serverName };
}

/** redis-server arguments that add a TLS listener on `port` (the plain port stays, for the rigs' own probes) and use TLS for replication. */
export function redisTlsArgs(files: TlsFiles, port: number): string[] {
  return ['--tls-port', String(port), '--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-cert-file', files.ca, '--tls-auth-clients', 'no', '--tls-replication', 'yes'];
}
