import { getPath, type JsonObject } from "../core";
import { anyFieldNamed, RESOURCE_KINDS } from "./kinds";
import { maskKnownValues, maskOutsideText } from "./mask";

/**
 * Where a billing profile of any kind holds personal data: each kind's managed personal
 * fields and the ones partners cannot set. One list for every kind: a path of another
 * kind finds nothing in a body, and a value found is masked all the same.
 */
export const PERSONAL_PROFILE_PATHS: readonly (readonly string[])[] = RESOURCE_KINDS.flatMap((kind) => [
  ...kind.fields.filter((f) => f.personal).map((f) => f.path),
  ...kind.unmanagedPersonal.map((name) => name.split("_")),
]);

/**
 * The personal values one run knows, and the masking that uses them. A run creates one,
 * adds its desired row and every profile it reads, and passes it to where text from
 * outside becomes part of a message (the Partner Center client) and to where the run's
 * error becomes a result, a history row, a log line and telemetry (the record step).
 *
 * Until the run has read the live profile it cannot know the values a service's text
 * might quote, so `outside` gives nothing then: such text is withheld, not half-masked.
 */
export class Redactor {
  readonly #values = new Set<string>();
  #profileRead: boolean;

  /** `profileFree`: no billing profile is in play (e.g. an interactive sign-in), so masking by shape is all there is to do. */
  constructor(options: { profileFree?: boolean } = {}) {
    this.#profileRead = options.profileFree ?? false;
  }

  /** The personal properties of a desired row, as stored (valid or not). */
  addDesiredProperties(properties: Record<string, unknown>): this {
    for (const [name, value] of Object.entries(properties)) {
      if (typeof value === "string" && anyFieldNamed(name)?.personal) this.#add(value);
    }
    return this;
  }

  /** Every personal value of a profile body the run read; from then on outside text can be shown, masked. */
  addProfile(body: JsonObject): this {
    for (const path of PERSONAL_PROFILE_PATHS) {
      const value = getPath(body, path);
      if (typeof value === "string") this.#add(value);
    }
    this.#profileRead = true;
    return this;
  }

  get values(): string[] {
    return [...this.#values];
  }

  /** Our own text (a run's error message): secrets and known values masked, ids kept readable. */
  known(text: string): string {
    return maskKnownValues(text, this.#values);
  }

  /** Text from outside, masked by value then by shape; undefined while the run has not read the profile it could quote. */
  outside(text: string | undefined): string | undefined {
    if (text === undefined || text.trim() === "" || !this.#profileRead) return undefined;
    return maskOutsideText(text, this.#values);
  }

  #add(value: string): void {
    if (value.trim() !== "") this.#values.add(value.trim());
  }
}
