import type { GraphqlDocument } from '../../services/src/infra/railway/documents.js'

/**
 * The earlier implementation's Railway calls, rebuilt for the baseline: eight requests per creation
 * (project, its environment looked up, an empty service, its image, its variables, a volume, a domain,
 * a deploy) and one `serviceInstance` read per instance for status. Valid against Railway's schema, so
 * the emulator runs them exactly as it runs services' own documents.
 */
const doc = <V, R>(
  kind: 'query' | 'mutation',
  operationName: string,
  source: string,
): GraphqlDocument<V, R> => ({
  kind,
  operationName,
  source: source.trim(),
})

export const NaiveProjectCreate = doc<
  { name: string; workspaceId: string },
  { projectCreate: { id: string } }
>(
  'mutation',
  'NaiveProjectCreate',
  `mutation NaiveProjectCreate($name: String!, $workspaceId: String!) {
  projectCreate(input: { name: $name, workspaceId: $workspaceId }) { id }
}`,
)

export const NaiveEnvironments = doc<
  { projectId: string },
  { project: { environments: { edges: { node: { id: string } }[] } } }
>(
  'query',
  'NaiveEnvironments',
  `query NaiveEnvironments($projectId: String!) {
  project(id: $projectId) { environments { edges { node { id } } } }
}`,
)

export const NaiveServiceCreate = doc<{ projectId: string; name: string }, { serviceCreate: { id: string } }>(
  'mutation',
  'NaiveServiceCreate',
  `mutation NaiveServiceCreate($projectId: String!, $name: String!) {
  serviceCreate(input: { projectId: $projectId, name: $name }) { id }
}`,
)

interface InstanceRef {
  serviceId: string
  environmentId: string
}

export const NaiveSetImage = doc<InstanceRef & { image: string }, { serviceInstanceUpdate: boolean }>(
  'mutation',
  'NaiveSetImage',
  `mutation NaiveSetImage($serviceId: String!, $environmentId: String!, $image: String!) {
  serviceInstanceUpdate(serviceId: $serviceId, environmentId: $environmentId, input: { source: { image: $image } })
}`,
)

export const NaiveSetVariables = doc<
  InstanceRef & { projectId: string; variables: Record<string, string> },
  { variableCollectionUpsert: boolean }
>(
  'mutation',
  'NaiveSetVariables',
  `mutation NaiveSetVariables($projectId: String!, $environmentId: String!, $serviceId: String!, $variables: EnvironmentVariables!) {
  variableCollectionUpsert(input: { projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, variables: $variables, skipDeploys: true })
}`,
)

export const NaiveVolumeCreate = doc<InstanceRef & { projectId: string }, { volumeCreate: { id: string } }>(
  'mutation',
  'NaiveVolumeCreate',
  `mutation NaiveVolumeCreate($projectId: String!, $environmentId: String!, $serviceId: String!) {
  volumeCreate(input: { projectId: $projectId, environmentId: $environmentId, serviceId: $serviceId, mountPath: "/data" }) { id }
}`,
)

export const NaiveDomainCreate = doc<
  InstanceRef & { targetPort: number },
  { serviceDomainCreate: { id: string; domain: string } }
>(
  'mutation',
  'NaiveDomainCreate',
  `mutation NaiveDomainCreate($serviceId: String!, $environmentId: String!, $targetPort: Int) {
  serviceDomainCreate(input: { serviceId: $serviceId, environmentId: $environmentId, targetPort: $targetPort }) { id domain }
}`,
)

export const NaiveDeploy = doc<InstanceRef, { serviceInstanceDeployV2: string }>(
  'mutation',
  'NaiveDeploy',
  `mutation NaiveDeploy($serviceId: String!, $environmentId: String!) {
  serviceInstanceDeployV2(serviceId: $serviceId, environmentId: $environmentId)
}`,
)

export const NaiveStatus = doc<
  InstanceRef,
  { serviceInstance: { latestDeployment: { status: string } | null } }
>(
  'query',
  'NaiveStatus',
  `query NaiveStatus($serviceId: String!, $environmentId: String!) {
  serviceInstance(serviceId: $serviceId, environmentId: $environmentId) { latestDeployment { id status } }
}`,
)
