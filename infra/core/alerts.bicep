// Alerts on the app's own telemetry (names fixed in the cross-issue contract): log search
// alert rules over the Application Insights component, mailed through one action group.
//   - a sync run that failed (failed, conflict, invalid-desired, not-converged)
//   - drift corrected (a PUT changed the live billing profile)
//   - the Partner Center refresh token failing (a run ended with AuthError)
//   - the refresh token not rotated while runs happen (the chain dies after 90 days
//     without a rotation)
//   - mass drift: a sweep reached its PUT limit and holds the rest of its targets (one
//     MassDriftHeld event per sweep)
//   - a customer gone: a target suspended after 3 runs whose customer answered 403/404
//     (one CustomerGone event per suspension, not one per run)
// Each rule queries with its own system-assigned identity, which holds Reader on the
// component: a rule keeps working whoever edits it or leaves.

param location string
param tags object = {}

param actionGroupName string

@description('Where alert mails go.')
param alertEmail string

@description('Name of the Application Insights component (in this resource group) the rules query.')
param applicationInsightsName string

param namePrefix string

@description('''Query time range of the "refresh token not rotated" rule. The contract asks for 7 days, but
a log search alert rule cannot look back further than 2 days; the rule therefore fires
after 2 days of runs without a rotation, earlier than 7, never later.''')
@allowed([
  'PT12H'
  'P1D'
  'P2D'
])
param rotationWindow string = 'P2D'

var roles = {
  reader: 'acdd72a7-3385-42ef-bd42-e3e1e4e1c8f5'
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: actionGroupName
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'billingsync'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// One record per run and target: trace message BillingProfileSyncRun with the run's
// customDimensions (outcome, target, errorCode, serviceCode, runId, correlationId).
// The outcomes are those of shared/model/outcomeClass.ts (failedSyncAlert): not held or gone
// (MassDriftHeld, DesiredStateChangedOutside and CustomerGone alert on those once, not per
// run), not uncertain or interrupted (the next run settles them; an instance scaled in
// interrupts runs routinely), not deferred (queued again).
var failedSyncQuery = '''
traces
| where message == "BillingProfileSyncRun"
| extend outcome = tostring(customDimensions.outcome), target = tostring(customDimensions.target)
| where outcome in ("failed", "conflict", "invalid-desired", "not-converged")
| project timestamp, target, outcome, errorCode = tostring(customDimensions.errorCode), runId = tostring(customDimensions.runId), correlationId = tostring(customDimensions.correlationId)
'''

var driftCorrectedQuery = '''
customEvents
| where name == "BillingProfileDriftCorrected"
| extend target = tostring(customDimensions.target)
| project timestamp, target, runId = tostring(customDimensions.runId), changedFields = tostring(customDimensions.changedFields)
'''

// Auth failures are runs with outcome failed and errorCode AuthError; serviceCode carries
// the AADSTS code, invalid_grant or KeyVaultForbidden.
var refreshTokenFailingQuery = '''
traces
| where message == "BillingProfileSyncRun"
| where tostring(customDimensions.outcome) == "failed" and tostring(customDimensions.errorCode) == "AuthError"
| extend target = tostring(customDimensions.target)
| project timestamp, target, serviceCode = tostring(customDimensions.serviceCode), runId = tostring(customDimensions.runId)
'''

// A row (so an alert) only when runs reached Partner Center in the window and not one
// PartnerCenterRefreshTokenRotated event was recorded. The outcomes are those that surely
// called it (outcomeClass.ts, reachedPartnerCenter): a deferred or interrupted run may not have.
var refreshTokenNotRotatedQuery = '''
union
  (traces
    | where message == "BillingProfileSyncRun"
    | where tostring(customDimensions.outcome) in ("in-sync", "corrected", "drift", "failed", "conflict", "not-converged", "held", "uncertain", "gone")
    | extend recordKind = "run"),
  (customEvents
    | where name == "PartnerCenterRefreshTokenRotated"
    | extend recordKind = "rotation")
| summarize runs = countif(recordKind == "run"), rotations = countif(recordKind == "rotation"), timestamp = max(timestamp)
| where runs > 0 and rotations == 0
'''

// One MassDriftHeld event per sweep that reached BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP;
// the held runs of the sweep (outcome held) say how many targets wait for approval.
var massDriftHeldQuery = '''
customEvents
| where name == "MassDriftHeld"
| extend sweepId = tostring(customDimensions.sweepId)
| join kind=leftouter (
    traces
    | where message == "BillingProfileSyncRun" and tostring(customDimensions.outcome) == "held"
    | summarize held = dcount(tostring(customDimensions.target)) by sweepId = tostring(customDimensions.sweepId)
  ) on sweepId
| project timestamp, sweepId, message = tostring(customDimensions.message), putLimit = tostring(customDimensions.putLimit), held
'''


// One CustomerGone event when a departed customer's target is suspended (shared/engine/departures.ts).
var customerGoneQuery = '''
customEvents
| where name == "CustomerGone"
| extend target = tostring(customDimensions.target)
| project timestamp, target, goneSince = tostring(customDimensions.goneSince)
'''

resource failedSync 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-sync-failed'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Billing profile sync failed'
    description: 'A sync run ended failed, conflict, invalid-desired or not-converged. billing-sync history --target <target> shows the error and the Partner Center correlation id.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    // The rule's identity is created with the rule and gets Reader just after: a query
    // validation at creation would run before it may read. npm test checks every query with
    // Kusto's parser instead (test/infra/kqlQueries.test.ts).
    skipQueryValidation: true
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: failedSyncQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource driftCorrected 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-drift-corrected'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Billing profile drift corrected'
    description: 'Someone or something changed the Partner Center billing profile and the sync put it back. The history row keeps the profile as it was before the PUT.'
    severity: 3
    enabled: true
    scopes: [
      appInsights.id
    ]
    // See failedSync: the identity may not read yet when the rule is created.
    skipQueryValidation: true
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // Every correction is worth a mail: each window with one fires anew.
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: driftCorrectedQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource refreshTokenFailing 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-refresh-token-failing'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Partner Center refresh token failing'
    description: 'A run failed with AuthError (see serviceCode: an AADSTS code, invalid_grant, KeyVaultForbidden). Until fixed no sync reaches Partner Center; invalid_grant needs billing-sync auth login again.'
    severity: 1
    enabled: true
    scopes: [
      appInsights.id
    ]
    // See failedSync: the identity may not read yet when the rule is created.
    skipQueryValidation: true
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: refreshTokenFailingQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource refreshTokenNotRotated 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-refresh-token-not-rotated'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Partner Center refresh token not rotated'
    description: 'Runs reached Partner Center but no rotated refresh token was stored in Key Vault in the window. A refresh token unused for 90 days expires; check the Key Vault role and the auth logs.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    // See failedSync: the identity may not read yet when the rule is created.
    skipQueryValidation: true
    evaluationFrequency: 'PT6H'
    windowSize: 'PT6H'
    overrideQueryTimeRange: rotationWindow
    autoMitigate: true
    criteria: {
      allOf: [
        {
          query: refreshTokenNotRotatedQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

resource massDriftHeld 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-mass-drift-held'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Billing profile mass drift held'
    description: 'Mass drift: a sweep found more targets to correct than BILLING_SYNC_MAX_CORRECTIONS_PER_SWEEP and held the rest (outcome held, nothing written). Review with billing-sync plan; let them through with billing-sync approve --sweep <sweepId>, or take the live values with billing-sync desired adopt.'
    severity: 2
    enabled: true
    scopes: [
      appInsights.id
    ]
    // See failedSync: the identity may not read yet when the rule is created.
    skipQueryValidation: true
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // One mail per sweep: each sweep raises its own event.
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: massDriftHeldQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'sweepId'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Reader on the component for each rule's identity: a log search alert rule with a managed
// identity runs its query as that identity (not as whoever last saved the rule), and Reader
// carries the components/query/read the query needs.
resource failedSyncReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, failedSync.id, roles.reader)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: failedSync.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reader on the component for the drift-corrected rule's identity (see failedSyncReader).
// Without it the rule's query is refused and the alert never fires.
resource driftCorrectedReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, driftCorrected.id, roles.reader)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: driftCorrected.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reader on the component for the refresh-token-failing rule's identity (see
// failedSyncReader). Without it the rule's query is refused and the alert never fires.
resource refreshTokenFailingReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, refreshTokenFailing.id, roles.reader)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: refreshTokenFailing.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reader on the component for the refresh-token-not-rotated rule's identity (see
// failedSyncReader). Without it the rule's query is refused and the alert never fires.
resource refreshTokenNotRotatedReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, refreshTokenNotRotated.id, roles.reader)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: refreshTokenNotRotated.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

// Reader on the component for the mass-drift rule's identity (see failedSyncReader).
// Without it the rule's query is refused and the alert never fires.
resource massDriftHeldReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, massDriftHeld.id, roles.reader)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: massDriftHeld.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

resource customerGone 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = {
  name: '${namePrefix}-customer-gone'
  location: location
  tags: tags
  kind: 'LogAlert'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    displayName: 'Billing profile customer gone'
    description: 'A customer whose billing profile answered 403 or 404 three runs in a row was suspended ("customer gone since DATE"). billing-sync status lists such targets under GONE; set Suspended back to false to manage the customer again.'
    severity: 3
    enabled: true
    scopes: [
      appInsights.id
    ]
    // See failedSync: the identity may not read yet when the rule is created.
    skipQueryValidation: true
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // One event per suspension: each is worth one mail.
    autoMitigate: false
    criteria: {
      allOf: [
        {
          query: customerGoneQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            {
              name: 'target'
              operator: 'Include'
              values: [
                '*'
              ]
            }
          ]
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: [
        actionGroup.id
      ]
    }
  }
}

// Reader on the component for the customer-gone rule's identity (see failedSyncReader).
// Without it the rule's query is refused and the alert never fires.
resource customerGoneReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, customerGone.id, roles.reader)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.reader)
    principalId: customerGone.identity.principalId
    principalType: 'ServicePrincipal'
  }
}

output actionGroupId string = actionGroup.id
