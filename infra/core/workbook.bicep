// The operators' dashboard: an Azure Monitor workbook over the Application Insights
// component the app sends to, deployed with the app. Its panels (runs by outcome,
// corrections, failures, freshness, contested and not-converged fields, refresh-token
// rotations, throttling) are KQL over the records shared/telemetry sends; the definition is
// the checked-in JSON, tested in test/infra/workbook.test.ts and test/integration/workbookTelemetry.test.ts.

param location string
param tags object = {}

@description('Resource id of the Application Insights component the panels query.')
param applicationInsightsId string

@description('Workbook name in the portal (unique within the resource group).')
param displayName string = 'partner-billing-sync'

// The JSON names its fallback resource with this token: a workbook opened outside the
// component (from Azure Monitor > Workbooks) still queries the right one.
var definition = replace(loadTextContent('../workbooks/billing-sync.workbook.json'), '__APPLICATION_INSIGHTS_ID__', applicationInsightsId)

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per component, so a redeploy
  // updates the workbook instead of adding another.
  name: guid(applicationInsightsId, 'partner-billing-sync-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: applicationInsightsId
    serializedData: definition
    version: 'Notebook/1.0'
  }
}

output id string = workbook.id
// Opens the workbook in the portal, in the context of the component (the form Microsoft's
// quickstart templates use); environment().portal keeps it right in sovereign clouds.
output url string = '${environment().portal}/#view/AppInsightsExtension/UsageNotebookBlade/ComponentId/${uriComponent(applicationInsightsId)}/ConfigurationId/${uriComponent(workbook.id)}/Type/workbook/WorkbookTemplateName/${uriComponent(displayName)}'
