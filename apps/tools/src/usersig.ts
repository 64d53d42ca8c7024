// The official generator (npm tls-sig-api-v2) has no type declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const TLSSigAPIv2 = require('tls-sig-api-v2') as {
  Api: new (sdkAppId: number, key: string) => { genSig(identifier: string, expireSeconds: number): string };
};

/** A UserSig made with Tencent's official generator, for the local runner and the benchmark. */
export function tencentUserSig(sdkAppId: string, secretKey: string, identifier: string, expireSeconds: number): string {
  return new TLSSigAPIv2.Api(Number(sdkAppId), secretKey).genSig(identifier, expireSeconds);
}
