import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface IssuedCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** Upper-case hex, as `getPeerCertificate().serialNumber` gives it. */
  serial: string;
}

/**
 * A throw-away certificate authority made with `openssl` (in every Debian base): a server
 * certificate for 127.0.0.1 / localhost, or a client certificate, each with its own key.
 */
export class TestPki {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-pki-'));
  readonly caFile: string;
  readonly ca: Buffer;
  private serial = 0x1000;

  constructor(name = 'kms-test-ca') {
    this.caFile = path.join(this.dir, `${name}.crt`);
    const caKey = path.join(this.dir, `${name}.key`);
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', this.caFile, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    this.ca = fs.readFileSync(this.caFile);
  }

  server(name: string): IssuedCert {
    return this.issue(name, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  }

  client(name: string): IssuedCert {
    return this.issue(name, 'extendedKeyUsage=clientAuth\n');
  }

  remove(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private issue(name: string, extensions: string): IssuedCert {
    const base = path.join(this.dir, name);
    const serial = (this.serial++).toString(16).toUpperCase();
    fs.writeFileSync(`${base}.ext`, extensions);
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${name}`);
    const caKey = this.caFile.replace(/\.crt$/, '.key');
    openssl('x509', '-req', '-in', `${base}.csr`, '-CA', this.caFile, '-CAkey', caKey, '-set_serial', `0x${serial}`, '-days', '2', '-extfile', `${base}.ext`, '-out', `${base}.crt`);
    return { certFile: `${base}.crt`, keyFile: `${base}.key`, cert: fs.readFileSync(`${base}.crt`), key: fs.readFileSync(`${base}.key`), serial };
  }
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}
