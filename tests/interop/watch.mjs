// Connects, announces `synced` on stdout, then waits until the text equals EXPECTED (for
// example after a REST PUT) and prints the result.
// Usage: node watch.mjs BASE NOTE TOKEN EXPECTED
import { connect, destroy, run, synced, until } from './lib.mjs'

const [base, note, token, expected] = process.argv.slice(2)

run(async () => {
  const client = connect(base, note, token)
  await synced(client)
  console.log('synced')
  await until('the expected text', () => client.text.toString() === expected, 10000)
  destroy(client)
  return { text: client.text.toString() }
})
