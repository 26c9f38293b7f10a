import { authorized, errorOf } from "./client";

/** Fetches an authorized file (an export, a recording) and hands it to the browser as a download. */
export async function download(path: string, fallbackName: string) {
  const res = await authorized(path, (token) => fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} }));
  if (!res.ok) throw await errorOf(res);
  const name = /filename="?([^";]+)"?/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
