// Prints the note's text as a fresh provider receives it.
// Usage: node dump.mjs BASE NOTE TOKEN
import { connect, destroy, run, synced } from './lib.mjs'

const [base, note, token] = process.argv.slice(2)

run(async () => {
  const client = connect(base, note, token)
  await synced(client)
  const text = client.text.toString()
  destroy(client)
  return { text }
})
