import { createRandom } from '../kit/random.js'

/** A number Telnyx could sell: E.164 plus where it is. */
export interface InventoryNumber {
  phoneNumber: string
  locality: string
  administrativeArea: string
}

// Real US area codes with a city and state, so search results look like Telnyx's.
const AREAS: Array<[npa: string, locality: string, state: string]> = [
  ['312', 'CHICAGO', 'IL'],
  ['415', 'SAN FRANCISCO', 'CA'],
  ['646', 'NEW YORK', 'NY'],
  ['512', 'AUSTIN', 'TX'],
  ['617', 'BOSTON', 'MA'],
  ['720', 'DENVER', 'CO'],
  ['206', 'SEATTLE', 'WA'],
  ['305', 'MIAMI', 'FL'],
  ['404', 'ATLANTA', 'GA'],
  ['970', 'FORT COLLINS', 'CO'],
]

/**
 * A fixed, seeded list of plausible US local numbers: NXX starts with 2-9 and is neither N11 nor the
 * fictional 555, so every number passes a NANP validator. The same seed gives the same list.
 */
export function createInventory(size: number, seed: number): InventoryNumber[] {
  const random = createRandom(seed)
  const digit = (from: number) => from + Math.floor(random() * (10 - from))
  const seen = new Set<string>()
  const numbers: InventoryNumber[] = []
  while (numbers.length < size) {
    const [npa, locality, administrativeArea] = AREAS[
      Math.floor(random() * AREAS.length)
    ] as (typeof AREAS)[0]
    const nxx = `${digit(2)}${digit(0)}${digit(0)}`
    if (nxx === '555' || nxx.endsWith('11')) continue
    const line = String(Math.floor(random() * 10_000)).padStart(4, '0')
    const phoneNumber = `+1${npa}${nxx}${line}`
    if (seen.has(phoneNumber)) continue
    seen.add(phoneNumber)
    numbers.push({ phoneNumber, locality, administrativeArea })
  }
  return numbers
}
