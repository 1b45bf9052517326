/**
 * The client over https with a private CA, as inside the VPC (infra passes the CA's certificate in
 * MLFLOW_TRACKING_SERVER_CA_PEM): a local https server whose certificate is signed by a CA made
 * here with openssl (nothing committed), and the same client without the CA, with another CA and
 * on a name the certificate does not cover.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppError, parseEnv } from "@gplay/common";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { MlflowClient } from "../../src/client.js";
import { mlflowConfigFromEnv, mlflowEnvSchema } from "../../src/config.js";

/** openssl runs a few hundred ms each on a busy machine. */
const SETUP_TIMEOUT_MS = 60_000;
const TEST_TIMEOUT_MS = 20_000;

interface Pki {
  caPem: string;
  otherCaPem: string;
  serverKey: string;
  serverCert: string;
}

/** A root CA, an unrelated root CA, and a server certificate for `localhost` signed by the first. */
function makePki(dir: string): Pki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const root = (name: string) =>
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name}`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    );
  root("test-ca");
  root("other-ca");
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(join(dir, "server.ext"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "test-ca.pem",
    "-CAkey",
    "test-ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "server.ext",
  );
  const read = (f: string) => readFileSync(join(dir, f), "utf8");
  return {
    caPem: read("test-ca.pem"),
    otherCaPem: read("other-ca.pem"),
    serverKey: read("server.key"),
    serverCert: read("server.pem"),
  };
}

describe("MLflow over https with a private CA", () => {
  let dir: string;
  let pki: Pki;
  let server: Server;
  let port: number;
  const authorizations: (string | undefined)[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gplay-mlflow-tls-"));
    pki = makePki(dir);
    server = createServer({ key: pki.serverKey, cert: pki.serverCert }, (req, res) => {
      authorizations.push(req.headers.authorization);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ experiment: { experiment_id: "7", name: "gplay" } }));
    });
    await new Promise<void>((resolve) => server.listen(0, resolve));
    port = (server.address() as AddressInfo).port;
  }, SETUP_TIMEOUT_MS);

  afterAll(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }, SETUP_TIMEOUT_MS);

  const clientFor = (vars: Record<string, string>) =>
    new MlflowClient(
      mlflowConfigFromEnv(
        parseEnv(mlflowEnvSchema, {
          MLFLOW_TRACKING_USERNAME: "gplay-service",
          MLFLOW_TRACKING_PASSWORD: "s3cret",
          MLFLOW_HTTP_REQUEST_MAX_RETRIES: "0",
          ...vars,
        }),
      ),
    );

  it(
    "trusts the CA from MLFLOW_TRACKING_SERVER_CA_PEM and sends its credentials only inside TLS",
    async () => {
      const before = authorizations.length;
      const client = clientFor({
        MLFLOW_TRACKING_URI: `https://localhost:${port}`,
        MLFLOW_TRACKING_SERVER_CA_PEM: pki.caPem,
      });
      await expect(client.getExperimentByName("gplay")).resolves.toMatchObject({ experiment_id: "7" });
      expect(authorizations.slice(before)).toEqual([
        `Basic ${Buffer.from("gplay-service:s3cret").toString("base64")}`,
      ]);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "accepts the PEM with escaped newlines, as a one-line variable",
    async () => {
      const client = clientFor({
        MLFLOW_TRACKING_URI: `https://localhost:${port}`,
        MLFLOW_TRACKING_SERVER_CA_PEM: pki.caPem.trim().replace(/\n/g, "\\n"),
      });
      await expect(client.getExperimentByName("gplay")).resolves.toMatchObject({ name: "gplay" });
    },
    TEST_TIMEOUT_MS,
  );

  it.each([
    ["without the CA (Node's public roots only)", () => ({})],
    ["with another CA", () => ({ MLFLOW_TRACKING_SERVER_CA_PEM: pki.otherCaPem })],
  ])(
    "refuses the server %s, sends nothing and says which variable to check",
    async (_label, vars) => {
      const before = authorizations.length;
      const client = clientFor({ MLFLOW_TRACKING_URI: `https://localhost:${port}`, ...vars() });
      const error = await client.getExperimentByName("gplay").then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("UPSTREAM_FAILED");
      expect((error as AppError).message).toMatch(/did not verify.*MLFLOW_TRACKING_SERVER_CA_PEM/);
      expect(authorizations.length).toBe(before);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "refuses a host name the certificate does not cover, even with the right CA",
    async () => {
      const client = clientFor({
        MLFLOW_TRACKING_URI: `https://127.0.0.1:${port}`,
        MLFLOW_TRACKING_SERVER_CA_PEM: pki.caPem,
      });
      await expect(client.getExperimentByName("gplay")).rejects.toMatchObject({
        code: "UPSTREAM_FAILED",
        details: { errorCode: "ERR_TLS_CERT_ALTNAME_INVALID" },
      });
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "refuses at start a value that is not a certificate, and a CA with an http URI",
    () => {
      expect(() =>
        parseEnv(mlflowEnvSchema, {
          MLFLOW_TRACKING_URI: `https://localhost:${port}`,
          MLFLOW_TRACKING_SERVER_CA_PEM: "not a certificate",
        }),
      ).toThrow(/MLFLOW_TRACKING_SERVER_CA_PEM/);
      const truncated = pki.caPem.replace(/\n[A-Za-z0-9+/=]{20,}\n/, "\nAAAA\n");
      expect(() =>
        parseEnv(mlflowEnvSchema, {
          MLFLOW_TRACKING_URI: `https://localhost:${port}`,
          MLFLOW_TRACKING_SERVER_CA_PEM: truncated,
        }),
      ).toThrow(/not a valid X\.509 certificate/);
      expect(() =>
        mlflowConfigFromEnv(
          parseEnv(mlflowEnvSchema, {
            MLFLOW_TRACKING_URI: "http://localhost:5000",
            MLFLOW_TRACKING_SERVER_CA_PEM: pki.caPem,
          }),
        ),
      ).toThrow(/is not https:\/\//);
    },
    TEST_TIMEOUT_MS,
  );
});
