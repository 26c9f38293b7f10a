// Measures how long an edit takes to reach a second provider through the server.
// Usage: node latency.mjs BASE NOTE TOKEN [ROUNDS]
import { connect, destroy, run, synced } from './lib.mjs'

const [base, note, token, rounds = '200'] = process.argv.slice(2)

run(async () => {
  const ann = connect(base, note, token)
  const bob = connect(base, note, token)
  await synced(ann)
  await synced(bob)
  const samples = []
  for (let i = 0; i < Number(rounds); i++) {
    const target = ann.text.length + 1
    const arrived = new Promise((resolve) => {
      const seen = () => {
        if (bob.text.length === target) {
          bob.text.unobserve(seen)
          resolve()
        }
      }
      bob.text.observe(seen)
    })
    const started = process.hrtime.bigint()
    ann.text.insert(ann.text.length, 'x')
    await arrived
    samples.push(Number(process.hrtime.bigint() - started) / 1e6)
  }
  samples.sort((a, b) => a - b)
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]
  destroy(ann, bob)
  return { rounds: samples.length, p50_ms: at(0.5), p99_ms: at(0.99) }
})
