import { randomUUID } from 'node:crypto'
import type { Ledger } from '../kit/ledger.js'

/** The ledger kinds: live Railway resources (deleted ones are removed). */
export type RailwayKind = 'project' | 'environment' | 'service' | 'volume' | 'domain' | 'deployment'

export type DeploymentStatus =
  | 'BUILDING'
  | 'CRASHED'
  | 'DEPLOYING'
  | 'FAILED'
  | 'INITIALIZING'
  | 'NEEDS_APPROVAL'
  | 'QUEUED'
  | 'REMOVED'
  | 'REMOVING'
  | 'SKIPPED'
  | 'SLEEPING'
  | 'SUCCESS'
  | 'WAITING'

// Records carry Railway's field names, so GraphQL's default resolvers read them directly; `seq` orders
// them (creation order) for paging.
interface Base {
  id: string
  seq: number
  createdAt: string
  updatedAt: string
  deletedAt: null
}

export interface ProjectRecord extends Base {
  name: string
  description: string | null
  workspaceId: string
  isPublic: boolean
  prDeploys: boolean
}

export interface EnvironmentRecord extends Base {
  projectId: string
  name: string
  isEphemeral: boolean
  /** Shared variables (a `variableCollectionUpsert` without `serviceId`). */
  sharedVariables: Record<string, string>
}

/** A service in one environment: its source, variables and settings there. */
export interface ServiceInstanceState {
  id: string
  environmentId: string
  image: string | null
  /** Only the username is kept: the ledger is readable over HTTP and must not show the password. */
  registryUsername: string | null
  startCommand: string | null
  variables: Record<string, string>
  createdAt: string
  updatedAt: string
}

export interface ServiceRecord extends Base {
  projectId: string
  name: string
  icon: string | null
  instances: Record<string, ServiceInstanceState>
}

export interface VolumeRecord extends Base {
  projectId: string
  name: string
  /** The service it is mounted in; null once detached (see `serviceDeleteVolumes`). */
  serviceId: string | null
  /** The one environment it is deployed to (null: none), as its volume instance `instanceId`. */
  environmentId: string | null
  instanceId: string
  mountPath: string
}

export interface DomainRecord extends Base {
  projectId: string
  serviceId: string
  environmentId: string
  /** `127.0.0.1:PORT`: the runtime emulator's address stands in for `*.up.railway.app`. */
  domain: string
  suffix: string | null
  targetPort: number | null
  syncStatus: 'ACTIVE'
}

export interface DeploymentRecord extends Base {
  projectId: string
  serviceId: string
  environmentId: string
  status: DeploymentStatus
  statusUpdatedAt: string
  image: string | null
  /** The variables the deployment runs with (a snapshot taken when it was created, as Railway does). */
  variables: Record<string, string>
  reason: 'deploy' | 'redeploy' | 'variables'
  staticUrl: string | null
  url: null
}

export interface RailwayRecords {
  project: ProjectRecord
  environment: EnvironmentRecord
  service: ServiceRecord
  volume: VolumeRecord
  domain: DomainRecord
  deployment: DeploymentRecord
}

/** Typed access to the ledger, which is the emulator's only store of Railway resources. */
export class RailwayStore {
  #seq = 0

  constructor(readonly ledger: Ledger<RailwayKind>) {}

  /** The common fields of a new record. */
  base(): Base {
    const now = new Date().toISOString()
    this.#seq += 1
    return { id: randomUUID(), seq: this.#seq, createdAt: now, updatedAt: now, deletedAt: null }
  }

  put<K extends RailwayKind>(kind: K, record: RailwayRecords[K]) {
    this.ledger.put(kind, record.id, record)
  }

  get<K extends RailwayKind>(kind: K, id: string): RailwayRecords[K] | undefined {
    return this.ledger.get<RailwayRecords[K]>(kind, id)
  }

  delete(kind: RailwayKind, id: string) {
    this.ledger.delete(kind, id)
  }

  /** Records of a kind matching `where`, oldest first. */
  list<K extends RailwayKind>(
    kind: K,
    where: (record: RailwayRecords[K]) => boolean = () => true,
  ): RailwayRecords[K][] {
    return this.ledger
      .all<RailwayRecords[K]>(kind)
      .filter(where)
      .sort((a, b) => a.seq - b.seq)
  }
}

/** Marks a record changed now. */
export function touch(record: { updatedAt: string }) {
  record.updatedAt = new Date().toISOString()
}
