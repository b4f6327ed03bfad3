/** A deepObject query parameter after parsing: `filter[a][b]=x` → `{a: {b: 'x'}}`, `f[]=x&f[]=y` → arrays. */
export type DeepValue = string | string[] | { [key: string]: DeepValue }
export type DeepObject = { [key: string]: DeepValue }

/**
 * The `name[...]` parameters of a query string as one object (OpenAPI `style: deepObject, explode: true`,
 * as Telnyx uses for `filter` and `page`). A trailing `[]` or a repeated key makes an array.
 */
export function deepObject(query: Record<string, string | string[] | undefined>, name: string): DeepObject {
  const root: DeepObject = {}
  for (const [key, raw] of Object.entries(query)) {
    if (raw === undefined || !key.startsWith(`${name}[`)) continue
    const path = [...key.slice(name.length).matchAll(/\[([^\]]*)\]/g)].map((match) => match[1] as string)
    const isArray = path.at(-1) === ''
    if (isArray) path.pop()
    if (path.length === 0) continue
    let node: DeepObject = root
    for (const segment of path.slice(0, -1)) {
      const next = node[segment]
      if (next === undefined || typeof next === 'string' || Array.isArray(next)) node[segment] = {}
      node = node[segment] as DeepObject
    }
    const last = path.at(-1) as string
    node[last] = isArray || Array.isArray(raw) ? [raw].flat() : raw
  }
  return root
}

/** A string member of a parsed deepObject, or undefined. */
export function stringAt(object: DeepObject, key: string): string | undefined {
  const value = object[key]
  return typeof value === 'string' ? value : undefined
}
