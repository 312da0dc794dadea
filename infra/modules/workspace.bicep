// What lives on one Azure ML workspace, deployed in the workspace's resource group: Reader for the
// app's identity (enrichment reads jobs, models, data, environments and endpoints through ARM, and
// nothing more) and the diagnostic setting streaming its resource logs to the lineage Event Hub.

param workspaceName string
param appPrincipalId string
@description('Namespace authorization rule (Manage, Send, Listen) in this workspace\'s region; empty: no diagnostic setting.')
param eventHubAuthorizationRuleId string
param eventHubName string

var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
var workspaceLogCategories = [
  'AmlRunStatusChangedEvent'
  'AmlComputeJobEvent'
  'ModelsChangeEvent'
  'ModelsActionEvent'
  'DataSetChangeEvent'
  'EnvironmentChangeEvent'
  'DeploymentEventACI'
  'DeploymentEventAKS'
]

resource workspace 'Microsoft.MachineLearningServices/workspaces@2024-10-01' existing = {
  name: workspaceName
}

resource appReadsWorkspace 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: workspace
  name: guid(workspace.id, appPrincipalId, reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Preview API on purpose: the only generally available version of diagnosticSettings, 2016-09-01,
// has no eventHubName (added in 2017-05-01-preview; see the resource's API change log).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = if (!empty(eventHubAuthorizationRuleId)) {
  scope: workspace
  name: 'aml-lineage'
  properties: {
    eventHubAuthorizationRuleId: eventHubAuthorizationRuleId
    eventHubName: eventHubName
    logs: [for category in workspaceLogCategories: { category: category, enabled: true }]
  }
}
