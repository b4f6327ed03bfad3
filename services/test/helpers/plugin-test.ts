import type { Test } from 'tap'
import type { Sent } from './recording-dispatcher.js'

/** A provider's published document, as it judges the requests a plugin sends. */
export interface RequestContract {
  /** Whose document it is, for the assertion message ("AgentMail"). */
  provider: string
  /** What is wrong with one request by the document (nothing = it conforms). */
  violations(request: Sent): string[]
}

/**
 * `pluginTest(name, options, body)`: a test under `parent` against a fresh `setup(t, options)`; when its
 * body is done, every request the plugin sent is checked against the provider's document (skipped when
 * the contracts are absent: `contract` undefined).
 */
export function definePluginTest<Options, Context extends { sent: Sent[] }>(
  parent: Test,
  setup: (test: Test, options: Options) => Promise<Context>,
  contract: RequestContract | undefined,
) {
  return (name: string, options: Options, body: (t: Test, context: Context) => Promise<void>) => {
    parent.test(name, async (t) => {
      const context = await setup(t, options)
      await body(t, context)
      if (contract) checkRequests(t, context.sent, contract)
    })
  }
}

function checkRequests(test: Test, sent: Sent[], contract: RequestContract) {
  test.ok(sent.length > 0, 'the plugin sent requests')
  const problems = sent.flatMap((request) => contract.violations(request))
  test.same(
    problems,
    [],
    `the ${sent.length} requests the plugin sent conform to ${contract.provider}'s document`,
  )
}
