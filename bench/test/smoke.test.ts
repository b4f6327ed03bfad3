import t from 'tap'
import { parseOptions } from '../options.js'
import { runBench } from '../run-bench.js'

// A whole quick run takes about a minute on a busy 2-core machine, more than tap's default file timeout.
t.setTimeout(300_000)

// Keeps the harness working, not the numbers: nothing here looks at how fast anything was.
t.test('the bench runs end to end in quick mode and reports every scenario', async (t) => {
  const options = { ...parseOptions(['--quick', '--no-write']), log: (line: string) => t.comment(line) }
  const result = await runBench(options)

  t.same([...new Set(result.rows.map((row) => row.id))], ['P1', 'P2', 'P3', 'P4', 'P5', 'P6'])
  for (const row of result.rows) {
    t.ok(row.ours.length > 0, `${row.id} ${row.metric}: ${row.ours}`)
    if (row.met === false) t.ok(row.gap, `a missed target says why: ${row.id} ${row.metric}`)
  }
  const naive = new Set(result.rows.filter((row) => row.naive !== undefined).map((row) => row.id))
  t.ok(
    ['P1', 'P2', 'P3'].every((id) => naive.has(id)),
    'the naive baseline ran beside P1–P3',
  )
  t.match(result.markdown, /\| P1 \|/, 'the markdown report carries the table')
})
