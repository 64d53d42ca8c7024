import { createHash, randomBytes } from 'node:crypto';
import { NETEASE_APP } from './harness';

/** NetEase server-API headers (AppKey, Nonce, CurTime, CheckSum = sha1(AppSecret + Nonce + CurTime)). */
export function qchatHeaders(appKey = NETEASE_APP.appKey, appSecret = NETEASE_APP.appSecret): Record<string, string> {
  const nonce = randomBytes(8).toString('hex');
  const curTime = String(Math.floor(Date.now() / 1000));
  return {
    AppKey: appKey,
    Nonce: nonce,
    CurTime: curTime,
    CheckSum: createHash('sha1').update(appSecret + nonce + curTime).digest('hex'),
    'Content-Type': 'application/x-www-form-urlencoded;charset=utf-8',
  };
}

/** POSTs a form (an object is url-encoded, a string is sent as is) to a QChat API and returns status and parsed JSON. */
export async function qchatPost(
  base: string,
  api: string,
  form: Record<string, string> | string,
  headers: Record<string, string> = qchatHeaders(),
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}/nimserver/qchat/${api}`, {
    method: 'POST',
    headers,
    body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
