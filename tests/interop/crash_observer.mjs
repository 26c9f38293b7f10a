// For the kill -9 test: a writer appends numbered edits while an observer records what it
// receives. After the observer has seen some edits it prints `ready` (the test then kills
// the server); when the connection drops it prints the text the observer had seen.
// Usage: node crash_observer.mjs BASE NOTE TOKEN
import { connect, run, sleep, synced } from './lib.mjs'

const [base, note, token] = process.argv.slice(2)

run(async () => {
  const writer = connect(base, note, token)
  const observer = connect(base, note, token)
  await synced(writer)
  await synced(observer)
  let seen = ''
  observer.text.observe(() => { seen = observer.text.toString() })
  let edits = 0
  let announced = false
  while (observer.provider.wsconnected) {
    if (writer.provider.wsconnected) {
      writer.text.insert(writer.text.length, `edit ${edits};`)
      edits += 1
    }
    if (!announced && seen.split(';').length > 50) {
      announced = true
      console.log('ready')
    }
    await sleep(2)
  }
  writer.provider.destroy()
  observer.provider.destroy()
  return { seen, edits }
})
