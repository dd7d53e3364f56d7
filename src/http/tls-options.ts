import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as tls from 'node:tls';
import { TlsFiles } from '../config/config';

/** Node's default too; pinned so that a runtime flag (--tls-min-v1.0) cannot lower it. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** A TLS file that cannot be read or used; the message names the file, never its contents. */
export class TlsFileError extends Error {}

function readPem(file: string, variable: string): Buffer {
  let pem: Buffer;
  try {
    pem = fs.readFileSync(file);
  } catch (e) {
    throw new TlsFileError(`cannot read ${variable} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!pem.includes('-----BEGIN ')) throw new TlsFileError(`${variable} ${file} is not a PEM file`);
  return pem;
}

/**
 * The server's secure-context options, read from the PEM files and checked by building a
 * context (unparseable PEM, a key that does not match the certificate): a bad file fails here,
 * with its name, rather than in every handshake.
 */
export function readTlsOptions(files: TlsFiles): tls.SecureContextOptions {
  const opts: tls.SecureContextOptions = {
    cert: readPem(files.certFile, 'KMS_TLS_CERT_FILE'),
    key: readPem(files.keyFile, 'KMS_TLS_KEY_FILE'),
    minVersion: TLS_MIN_VERSION,
  };
  if (files.clientCaFile) {
    const ca = readPem(files.clientCaFile, 'KMS_TLS_CLIENT_CA_FILE');
    try {
      new crypto.X509Certificate(ca);
    } catch (e) {
      throw new TlsFileError(`KMS_TLS_CLIENT_CA_FILE ${files.clientCaFile} holds no usable certificate: ${(e as Error).message}`);
    }
    opts.ca = ca;
  }
  try {
    tls.createSecureContext(opts);
  } catch (e) {
    throw new TlsFileError(`KMS_TLS_CERT_FILE ${files.certFile} and KMS_TLS_KEY_FILE ${files.keyFile} do not make a usable certificate and key: ${(e as Error).message}`);
  }
  return opts;
}
