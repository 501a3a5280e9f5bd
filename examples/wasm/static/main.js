// Loads Pyodide from this server, installs gee's wheel by URL, writes the page's Python into
// Pyodide's file system and starts the demos. Every request goes to the server of the page.
import { loadPyodide } from "/pyodide/pyodide.mjs";

const status = document.getElementById("status");
const stdout = document.getElementById("stdout");
const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;

function write(line, stream) {
  (stream === "stderr" ? console.error : console.log)(line);
  stdout.append(line + "\n");
}

// Demo 4: a Promise made in JavaScript, awaited by Python.
window.wait = (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms));

async function boot() {
  const started = performance.now();
  const config = await (await fetch("/api/config")).json();
  const pyodide = await loadPyodide({
    indexURL: new URL("/pyodide/", location.href).href,
    stdout: (line) => write(line, "stdout"),
    stderr: (line) => write(line, "stderr"),
  });
  const runtime = performance.now();
  await pyodide.loadPackage(new URL(config.wheel, location.href).href, {
    messageCallback: () => {},
  });
  const wheel = performance.now();
  pyodide.FS.mkdirTree("/home/pyodide/page");
  await Promise.all(config.page.map(async (name) => {
    const response = await fetch(`/py/${name}`);
    if (!response.ok) throw new Error(`GET /py/${name}: ${response.status}`);
    pyodide.FS.writeFile(`/home/pyodide/page/${name}`, await response.text());
  }));
  pyodide.runPython("import sys; sys.path.insert(0, '/home/pyodide')");
  const boot = pyodide.pyimport("page.boot");
  boot.main();
  boot.destroy();
  const done = performance.now();
  const python = pyodide.runPython("import sys; sys.version.split()[0]");
  for (const button of document.querySelectorAll("button[disabled]")) button.disabled = false;
  status.textContent =
    `Ready in ${seconds(done)} after navigation: Pyodide ${pyodide.version} (Python ${python}) ` +
    `loaded in ${seconds(runtime - started)}, gee's wheel in ${seconds(wheel - runtime)}, ` +
    `the demos in ${seconds(done - wheel)}.`;
  status.dataset.state = "ready";
}

boot().catch((error) => {
  status.textContent = `Failed: ${error}`;
  status.dataset.state = "error";
  console.error(error);
});
