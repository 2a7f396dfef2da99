import { startCli } from "./helpers/cli_proc.ts";
const run = startCli(["--hostname", "127.0.0.1", "--port", "0", "--workers", "2", "test/fixtures/cli/pid_app.ts"]);
const port = await run.listening;
console.log("port", port);
run.child.kill("SIGHUP");
await new Promise((r) => setTimeout(r, 4000));
console.log(run.stderr());
run.child.kill("SIGTERM");
console.log("exit", await Promise.race([run.exited, new Promise((r) => setTimeout(() => r("late"), 8000))]));
