/** The variables services gives an instance whose values are secrets: none may appear in a dump or a log. */
export const SECRET_VARIABLES = [
  'POOL_API_KEY',
  'INSTANCE_SERVICES_TOKEN',
  'OPENCLAW_GATEWAY_TOKEN',
  'SETUP_PASSWORD',
  'OPENROUTER_API_KEY',
  'PRIVATE_WALLET_KEY',
  'AGENTMAIL_API_KEY',
  'TELNYX_API_KEY',
  'BANKR_API_KEY',
]
