// A read-only provider stays synced with a writer, and its own edits reach no one.
// Usage: node read_only.mjs BASE NOTE WRITER_TOKEN READER_TOKEN
import { assert, connect, destroy, run, sleep, synced, until } from './lib.mjs'

const [base, note, writerToken, readerToken] = process.argv.slice(2)

run(async () => {
  const writer = connect(base, note, writerToken)
  const reader = connect(base, note, readerToken)
  await synced(writer)
  await synced(reader)

  writer.text.insert(writer.text.length, 'from the writer. ')
  await until('reader sees the writer', () => reader.text.toString().includes('from the writer.'))

  reader.text.insert(0, 'from the reader. ')
  writer.text.insert(writer.text.length, 'second line. ')
  await until('reader still receives', () => reader.text.toString().includes('second line.'))
  await sleep(500)
  assert(!writer.text.toString().includes('from the reader'), 'writer never sees the reader edit')

  const late = connect(base, note, writerToken)
  await synced(late)
  await until('late joiner has the writer text', () => late.text.toString().includes('second line.'))
  assert(!late.text.toString().includes('from the reader'), 'the server never stored the reader edit')
  assert(reader.provider.wsconnected, 'reader is still connected')

  const text = late.text.toString()
  destroy(writer, reader, late)
  return { text }
})
