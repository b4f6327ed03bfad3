import { secp256k1 } from '@noble/curves/secp256k1.js'
import { hexToBytes } from '@noble/hashes/utils.js'
import t from 'tap'
import { addressOf, createWalletPlugin, toChecksumAddress, walletResource } from '../../src/plugins/wallet.js'

// Known private key → address pairs (keys 1, 2, 3 are the classic vectors; the last is Hardhat's account #0).
const KEY_VECTORS: Array<[privateKey: string, address: string]> = [
  [
    '0000000000000000000000000000000000000000000000000000000000000001',
    '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf',
  ],
  [
    '0000000000000000000000000000000000000000000000000000000000000002',
    '0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF',
  ],
  [
    '0000000000000000000000000000000000000000000000000000000000000003',
    '0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69',
  ],
  [
    'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266',
  ],
]

// The test vectors of EIP-55 itself (all-caps, all-lower and mixed).
const EIP55_VECTORS = [
  '0x52908400098527886E0F7030069857D2E4169EE7',
  '0x8617E340B3D01FA5F11F306F4090FD50E238070D',
  '0xde709f2102306220921060314715629080e2fb77',
  '0x27b1fdb04752bbc536007a920d24acb045561c26',
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
  '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
  '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
]

t.test('addresses derive from private keys as Ethereum does', async (t) => {
  for (const [privateKey, address] of KEY_VECTORS) {
    t.equal(addressOf(hexToBytes(privateKey)), address, `key …${privateKey.slice(-4)}`)
  }
})

t.test('EIP-55 checksums match the EIP’s own vectors, from any input case', async (t) => {
  for (const address of EIP55_VECTORS) {
    t.equal(toChecksumAddress(address.toLowerCase()), address)
    t.equal(toChecksumAddress(`0x${address.slice(2).toUpperCase()}`), address)
  }
  t.throws(() => toChecksumAddress('0x1234'), TypeError)
  t.throws(() => toChecksumAddress(`0x${'g'.repeat(40)}`), TypeError)
})

t.test('walletResource exposes the key as 0x + 64 hex and the address everywhere else', async (t) => {
  const resource = walletResource(hexToBytes(KEY_VECTORS[0]?.[0] as string))
  t.same(resource, {
    resourceId: '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf',
    config: { address: '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf' },
    env: {
      PRIVATE_WALLET_KEY: '0x0000000000000000000000000000000000000000000000000000000000000001',
      WALLET_ADDRESS: '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf',
    },
  })
})

t.test('create makes a fresh, valid key pair each time', async (t) => {
  const plugin = createWalletPlugin()
  t.equal(plugin.toolId, 'wallet')
  const first = await plugin.create({ instanceId: 'i-1', idempotencyKey: 'i-1:wallet' })
  const second = await plugin.create({ instanceId: 'i-2', idempotencyKey: 'i-2:wallet' })
  for (const resource of [first, second]) {
    const key = resource.env.PRIVATE_WALLET_KEY as string
    t.match(key, /^0x[0-9a-f]{64}$/)
    t.ok(secp256k1.utils.isValidSecretKey(hexToBytes(key.slice(2))), 'a valid secp256k1 scalar')
    t.equal(resource.env.WALLET_ADDRESS, addressOf(hexToBytes(key.slice(2))), 'the address is the key’s')
    t.equal(resource.resourceId, resource.env.WALLET_ADDRESS)
    t.same(resource.config, { address: resource.env.WALLET_ADDRESS })
    t.equal(toChecksumAddress(resource.resourceId), resource.resourceId, 'checksummed')
  }
  t.not(first.env.PRIVATE_WALLET_KEY, second.env.PRIVATE_WALLET_KEY)
})

t.test('nothing to adopt and nothing to release at a provider', async (t) => {
  const plugin = createWalletPlugin()
  t.equal(await plugin.find({ instanceId: 'i-1', idempotencyKey: 'i-1:wallet' }), undefined)
  const ref = { resourceId: '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf', config: {} }
  t.equal(await plugin.destroy(ref), 'destroyed')
  t.equal(await plugin.destroy(ref), 'destroyed', 'destroying twice is harmless')
})
