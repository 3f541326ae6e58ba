// What a refusal says: the problem lines of the StackProblemsError a parse throws. A parse that throws nothing,
// or throws anything else, fails the test.
import * as assert from "assert";
import { ConfigError, StackProblemsError } from "../../components/shared/errors";

/** The error `run` throws, which must be a `kind` (a ConfigError unless given). */
export function refusal<E extends StackProblemsError>(run: () => unknown, kind: abstract new (...args: any[]) => E = ConfigError as any): E {
    try {
        run();
    } catch (e) {
        assert.ok(e instanceof kind, `expected a ${kind.name}, got ${e}`);
        return e;
    }
    return assert.fail("accepted without complaint");
}

/** The problem lines of the refusal `run` throws (see `refusal`). */
export function problemsOf(run: () => unknown, kind?: abstract new (...args: any[]) => StackProblemsError): string[] {
    return refusal(run, kind).problems;
}
