// Helpers shared by the interop scenarios: real `y-websocket` providers in Node, and
// waiting for conditions with a deadline. Every scenario prints one JSON line on success
// and exits non-zero (with a message on stderr) on failure.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

/** Counts every WebSocket the provider opens, to see whether it keeps reconnecting. */
export class CountingWebSocket extends WebSocket {
  static opened = 0
  constructor (...args) {
    super(...args)
    CountingWebSocket.opened += 1
  }
}

/** A provider on the note's live URL; `base` is `ws://host:port/api/workbook/notes/ws`. */
export function connect (base, note, token, opts = {}) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(base, note, doc, {
    WebSocketPolyfill: opts.WebSocketPolyfill ?? WebSocket,
    disableBc: true,
    params: { token },
    ...opts.provider
  })
  const closes = []
  provider.on('connection-close', (event) => { closes.push(event?.code ?? null) })
  return { doc, provider, text: doc.getText('content'), closes }
}

export function sleep (ms) {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Resolves when `check()` is true, polling every 10 ms; fails after `ms`. */
export async function until (what, check, ms = 5000) {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

export async function synced (client, ms = 5000) {
  await until('sync', () => client.provider.synced, ms)
}

export function destroy (...clients) {
  for (const client of clients) client.provider.destroy()
}

export function assert (condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`)
}

/** Runs a scenario: prints its result as JSON, or the error, and exits accordingly. */
export function run (scenario, limitMs = 60000) {
  const watchdog = setTimeout(() => {
    console.error('scenario timed out')
    process.exit(3)
  }, limitMs)
  scenario().then((result) => {
    clearTimeout(watchdog)
    console.log(JSON.stringify(result ?? {}))
    process.exit(0)
  }, (error) => {
    console.error(error?.stack ?? String(error))
    process.exit(1)
  })
}
