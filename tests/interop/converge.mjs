// Two writers converge, a late joiner gets the full text, and the awareness of a closed
// provider disappears for the others.
// Usage: node converge.mjs BASE NOTE TOKEN_A TOKEN_B
import { assert, connect, destroy, run, synced, until } from './lib.mjs'

const [base, note, tokenA, tokenB] = process.argv.slice(2)

run(async () => {
  const ann = connect(base, note, tokenA)
  const bob = connect(base, note, tokenB)
  await synced(ann)
  await synced(bob)

  ann.text.insert(ann.text.length, 'ann was here. ')
  bob.text.insert(0, 'bob too. ')
  await until('both edits everywhere', () =>
    ann.text.toString() === bob.text.toString() &&
    ann.text.toString().includes('ann was here.') &&
    ann.text.toString().includes('bob too.'))

  const late = connect(base, note, tokenA)
  await synced(late)
  assert(late.text.toString() === ann.text.toString(), 'late joiner has the full text')

  ann.provider.awareness.setLocalStateField('user', { name: 'Ann' })
  const annId = ann.doc.clientID
  await until('Ann present for Bob', () => bob.provider.awareness.getStates().get(annId)?.user?.name === 'Ann')
  destroy(ann)
  await until('Ann gone for Bob', () => !bob.provider.awareness.getStates().has(annId))
  await until('Ann gone for the late joiner', () => !late.provider.awareness.getStates().has(annId))

  const text = bob.text.toString()
  destroy(bob, late)
  return { text }
})
