// The screenshot of docs/guide/mlflow.md: a sweep in MLflow's UI, from headless Chromium driven over
// the DevTools protocol (the sweep's parent run unfolded, its jobs' test_acc curves beside it).
//   chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
//     --disable-sync --no-first-run --user-data-dir=$(mktemp -d) --remote-debugging-port=9333 about:blank &
//   node --experimental-websocket scripts/mlflow_screenshot.mjs 9333 http://127.0.0.1:5000/#/experiments/1/runs docs/images/mlflow-sweep.png
import { writeFileSync } from "node:fs";

const [port, url, out] = process.argv.slice(2);
const page = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()).find((t) => t.type === "page");
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((r) => ws.addEventListener("open", r));
let n = 0;
const pending = new Map();
ws.addEventListener("message", (e) => {
  const m = JSON.parse(e.data);
  if (pending.has(m.id)) pending.get(m.id)(m);
});
const send = (method, params = {}) =>
  new Promise((r) => {
    const i = ++n;
    pending.set(i, r);
    ws.send(JSON.stringify({ id: i, method, params }));
  });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const js = async (expression) => (await send("Runtime.evaluate", { expression, returnByValue: true })).result?.result?.value;
const until = async (expression, seconds = 120) => {
  for (let i = 0; i < seconds && !(await js(expression)); i++) await sleep(1000);
};

await send("Emulation.setDeviceMetricsOverride", { width: 1400, height: 900, deviceScaleFactor: 1, mobile: false });
await send("Page.navigate", { url });
const expander = `document.querySelector('button[data-component-id$="runnamecellrenderer.tsx_46"]')`;
await until(`!!${expander}`);
await sleep(3000);
await js(`[...document.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === "Close")?.click()`); // the assistant panel
await js(`${expander}.click()`); // unfold the sweep's parent run
await sleep(2000);
await js(`document.querySelector('input[name^="runs-"][value="CHART"], input[name^="runs-"]:not(:checked)')?.click()`); // chart view
await until(`!!document.querySelector('input[placeholder="Search metric charts"]')`, 30);
await js(`document.querySelector('input[placeholder="Search metric charts"]').focus()`);
await send("Input.insertText", { text: "test_acc" });
await sleep(15000); // the charts load their metric histories
const shot = await send("Page.captureScreenshot", { format: "png" });
writeFileSync(out, Buffer.from(shot.result.data, "base64"));
console.log(`saved ${out}`);
process.exit(0);
