// Runs a command's `main` with console.error and console.log captured, for tests of what a command prints.

export async function captured(fn: () => number | Promise<number>): Promise<{ code: number; stderr: string; stdout: string }> {
    const { error, log } = console;
    let stderr = "";
    let stdout = "";
    console.error = (...a: unknown[]) => void (stderr += `${a.join(" ")}\n`);
    console.log = (...a: unknown[]) => void (stdout += `${a.join(" ")}\n`);
    try {
        return { code: await fn(), stderr, stdout };
    } finally {
        Object.assign(console, { error, log });
    }
}
