/** pyzmq's zmq.auth in TypeScript: a ZAP authenticator and CURVE certificate files. */
export { Authenticator, CURVE_ALLOW_ANY } from "./authenticator.js";
export type { AuthenticatorOptions, AuthLogger, CurveCallback } from "./authenticator.js";
export { createCertificates, loadCertificate, loadCertificates } from "./certs.js";
export type { Certificate, CreatedCertificates, LoadCertificatesOptions } from "./certs.js";
