import { writeFile } from 'node:fs/promises'
import { parseOptions } from './options.js'
import { formatMarkdown } from './report/format-markdown.js'
import { textTable } from './report/table.js'
import { runBench } from './run-bench.js'

/** `npm run bench [-- --quick] [--latency=MS] [--out=FILE] [--no-write] [--profile]`: see options.ts. */
const options = parseOptions(process.argv.slice(2))
const result = await runBench(options)
process.stdout.write(
  `\n${textTable(result.rows)}\n\nbench wall time: ${Math.round(result.wallMs / 1000)} s\n`,
)
if (options.output) {
  await writeFile(options.output, result.markdown)
  if (!(await formatMarkdown(options.output))) process.stderr.write('bench: could not format the report\n')
  process.stdout.write(`written: ${options.output}\n`)
}
