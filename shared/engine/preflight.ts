import {
  addressToValidate,
  type AddressValidationSummary,
  changesPostalAddress,
  checkCountryRules,
  countryOf,
  type DesiredState,
  type FieldChange,
  judgeAddressValidation,
  type LiveProfile,
  planChanges,
  type RuleViolation,
  touchesCountryRules,
  withSuggestion,
} from "../model";
import { SyncError } from "../core";
import type { CallOptions, PartnerCenterClient } from "../partnerCenter";

/** What the checks before a PUT decided. */
export interface Preflight {
  /** The desired state the run works to: the row, or the row with an accepted address suggestion. */
  desired: DesiredState;
  /** The changes to send (re-planned when a suggestion was accepted). */
  changes: FieldChange[];
  warnings: string[];
  violations: RuleViolation[];
  addressValidation?: AddressValidationSummary;
  /** The country whose rules were applied, when they were. */
  rulesOf?: string;
  /** Set when the desired values must not be sent: InvalidDesiredState naming the rule or the suggestion. */
  refusal?: SyncError;
}

/**
 * Before a PUT that changes an address, phone or tax field: the rules of the live
 * profile's country (GET, kept a day per process), checked by the pure checkCountryRules;
 * then, when the postal address changes, POST /v1/validations/address, judged by the pure
 * judgeAddressValidation. A run that changes none of these makes no call here. Which
 * fields those are, and where the country is, is the resource kind's (ResourceKind.address):
 * the partner's profile and a customer's are checked alike, as the PowerShell module does.
 */
export async function checkBeforePut(
  desired: DesiredState,
  live: LiveProfile,
  changes: FieldChange[],
  client: PartnerCenterClient,
  callOptions: CallOptions,
): Promise<Preflight> {
  const out: Preflight = { desired, changes, warnings: [], violations: [] };
  const kind = desired.resource.kind;
  if (!kind.address || !touchesCountryRules(changes, kind)) return out;
  const country = countryOf(live);
  if (!/^[A-Z]{2}$/.test(country)) {
    out.warnings.push(`The live profile has no ${kind.address.country.join(".")} (an ISO alpha-2 code): the country's rules and the address were not checked.`);
    return out;
  }
  const { rules } = await client.getCountryRules(country, callOptions);
  if (!rules) {
    out.warnings.push(`Partner Center has no validation rules for ${country} (404): they were not checked.`);
  } else {
    out.rulesOf = country;
    const check = checkCountryRules(rules, changes, kind);
    out.warnings.push(...check.unchecked);
    if (check.violations.length > 0) {
      out.violations = check.violations;
      out.refusal = new SyncError(
        "InvalidDesiredState",
        `Desired state for target "${desired.target}" breaks the country rules of ${country}: ${check.violations.map((v) => v.message).join("; ")}. Nothing was written.`,
      );
      return out;
    }
  }
  if (!changesPostalAddress(changes, kind)) return out;
  const sent = addressToValidate(live, changes);
  const { validation } = await client.validateAddress(sent, callOptions);
  const verdict = judgeAddressValidation(validation, sent, desired);
  out.addressValidation = verdict.summary;
  if (verdict.kind !== "refuse" && verdict.warning) out.warnings.push(verdict.warning);
  if (verdict.kind === "refuse") {
    out.refusal = new SyncError("InvalidDesiredState", `Desired address of target "${desired.target}" refused: ${verdict.message} Nothing was written.`);
  } else if (verdict.kind === "suggestion") {
    out.desired = withSuggestion(desired, verdict.values);
    out.changes = planChanges(out.desired, live);
  }
  return out;
}
