// A real Alertmanager for tests, on 127.0.0.1 only: Debian's `prometheus-alertmanager` package (installed with apt-get
// when absent, like ./prometheus.ts installs Prometheus), started directly with a temporary config and storage, its
// clustering off, and stopped by the test. And a local HTTP receiver that records what Alertmanager delivers.
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { freePort, installDebianPackage, onPath, startLoopbackServer } from "./prometheus";

/** `prometheus-alertmanager` (and `amtool`, which checks configs) from PATH, installing Debian's package when absent. */
export async function ensureAlertmanager(): Promise<{ alertmanager: string; amtool: string }> {
    const found = () => ({ alertmanager: onPath("prometheus-alertmanager"), amtool: onPath("amtool") });
    let { alertmanager, amtool } = found();
    if (alertmanager && amtool) return { alertmanager, amtool };
    await installDebianPackage("prometheus-alertmanager", "prometheus-alertmanager is not on PATH", "install Alertmanager 0.25 or later");
    ({ alertmanager, amtool } = found());
    if (!alertmanager || !amtool) throw new Error("apt-get installed prometheus-alertmanager, but prometheus-alertmanager and amtool are still not on PATH");
    return { alertmanager, amtool };
}

export interface RunningAlertmanager {
    url: string;
    /** host:port, as Prometheus's static_configs names it. */
    target: string;
    log(): string;
    stop(): Promise<void>;
}

/** Starts Alertmanager on 127.0.0.1 with this config (YAML text); resolves once /-/ready answers 200. */
export async function startAlertmanager(binary: string, options: { dir: string; config: string }): Promise<RunningAlertmanager> {
    const configFile = path.join(options.dir, "alertmanager.yml");
    fs.writeFileSync(configFile, options.config, { mode: 0o600 });
    const storage = path.join(options.dir, "alertmanager-data");
    fs.mkdirSync(storage, { recursive: true });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const { log, stop } = await startLoopbackServer("alertmanager", binary, [
        `--config.file=${configFile}`,
        `--storage.path=${storage}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // No gossip: an empty listen address turns clustering off (else it binds 0.0.0.0:9094).
        "--cluster.listen-address=",
        "--log.level=warn",
    ], url);
    return { url, target: `127.0.0.1:${port}`, log, stop };
}

/** One request Alertmanager made to the receiver: its path and JSON body. */
export interface Delivery {
    path: string;
    body: any;
}

export interface HttpReceiver {
    /** Base URL, e.g. http://127.0.0.1:PORT */
    url: string;
    deliveries: Delivery[];
    /** Resolves with the first delivery (already made or to come) that `match` accepts; rejects after `timeoutMs`. */
    waitFor(match: (d: Delivery) => boolean, timeoutMs: number): Promise<Delivery>;
    close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering 200 to every POST and recording its path and JSON body. */
export async function startHttpReceiver(): Promise<HttpReceiver> {
    const deliveries: Delivery[] = [];
    let waiters: (() => void)[] = [];
    const server = http.createServer((req, res) => {
        let text = "";
        req.on("data", (d) => (text += d));
        req.on("end", () => {
            let body: any;
            try {
                body = JSON.parse(text);
            } catch {
                body = text;
            }
            deliveries.push({ path: req.url ?? "", body });
            res.writeHead(200, { "content-type": "text/plain" }).end("ok");
            const wake = waiters;
            waiters = [];
            for (const w of wake) w();
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        deliveries,
        waitFor: (match, timeoutMs) =>
            new Promise<Delivery>((resolve, reject) => {
                const timer = setTimeout(() => reject(new Error(`no matching delivery within ${timeoutMs / 1000} s; received: ${JSON.stringify(deliveries).slice(0, 3000)}`)), timeoutMs);
                const check = () => {
                    const found = deliveries.find(match);
                    if (found) {
                        clearTimeout(timer);
                        resolve(found);
                    } else waiters.push(check);
                };
                check();
            }),
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
