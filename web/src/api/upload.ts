import { authorized, errorOf } from "./client";

/**
 * A multipart POST that reports upload progress (0–1). `fetch` cannot report the progress of
 * a request body, so this one call uses XMLHttpRequest.
 */
export async function upload<T>(path: string, form: FormData, onProgress: (fraction: number) => void): Promise<T> {
  const res = await authorized(path, (token) => send(path, form, onProgress, token));
  if (!res.ok) throw await errorOf(res);
  return (await res.json()) as T;
}

function send(path: string, form: FormData, onProgress: (fraction: number) => void, token: string | null): Promise<Response> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", path);
    if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      const headers = new Headers();
      const retry = xhr.getResponseHeader("retry-after");
      if (retry) headers.set("retry-after", retry);
      resolve(new Response(xhr.status === 204 ? null : xhr.responseText, { status: xhr.status, headers }));
    };
    xhr.onerror = () => reject(new TypeError("The upload failed: the server cannot be reached."));
    xhr.send(form);
  });
}
