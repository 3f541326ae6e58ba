import * as assert from "assert";
import { operationOrder } from "../../components/service/order";
import { stagePlans } from "../../components/service/stages";

describe("make before break (operationOrder)", () => {
    const plans = stagePlans({ stable: "01", canary: "02", replicas: 3, steps: [10, 90, 100] });
    const tracks = (s: number) => ({ production: plans[s - 1].production, canary: plans[s - 1].canary });

    it("scales the canary up before routing moves forward, with nothing to drain", () => {
        assert.deepStrictEqual(operationOrder(tracks(1), tracks(2), 30), { make: ["production", "canary"], break: [], drainSeconds: 0 });
    });
    it("rolls production to the new tag before routing at promote", () => {
        assert.deepStrictEqual(operationOrder(tracks(4), tracks(5), 30), { make: ["production", "canary"], break: [], drainSeconds: 0 });
    });
    it("on rollback, scales the canary down after routing and a drain delay", () => {
        assert.deepStrictEqual(operationOrder(tracks(3), tracks(1), 30), { make: ["production"], break: ["canary"], drainSeconds: 30 });
    });
    it("needs no drain when the pods scaled down carried no traffic", () => {
        assert.deepStrictEqual(operationOrder(tracks(6), tracks(1), 30), { make: ["production"], break: ["canary"], drainSeconds: 0 });
    });
    it("on the first deployment, makes everything", () => {
        assert.deepStrictEqual(operationOrder(undefined, tracks(2), 30), { make: ["production", "canary"], break: [], drainSeconds: 0 });
    });
});
