// A refused provider is closed with the expected code and stops reconnecting.
// Usage: node refused.mjs BASE NOTE TOKEN EXPECTED_CODE
import { CountingWebSocket, assert, connect, destroy, run, sleep, until } from './lib.mjs'

const [base, note, token, expected] = process.argv.slice(2)

run(async () => {
  const client = connect(base, note, token, { WebSocketPolyfill: CountingWebSocket })
  await until('the close', () => client.closes.length > 0)
  // The provider retries after 100 ms and backs off from there; 3 s would show several.
  await sleep(3000)
  const result = { code: client.closes[0], closes: client.closes.length, opened: CountingWebSocket.opened }
  assert(result.code === Number(expected), `closed with ${result.code}, expected ${expected}`)
  assert(result.opened === 1, `opened ${result.opened} sockets, expected 1`)
  assert(!client.provider.shouldConnect, 'the provider gave up')
  destroy(client)
  return result
})
