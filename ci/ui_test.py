#!/usr/bin/python3
"""The web UI of `sluice serve` in a real browser (Debian's headless chromium).

Starts `sluice serve` on a loopback port the system picks, with a token, and submits two jobs
over REST: a file -> file GROUP BY (Scenario 2's query over a few thousand generated trades),
which runs to its end, and the same query over a FIFO that this script keeps feeding, so that a
running job has live charts. Then:

  1. `chromium --headless=new --dump-dom` loads /ui/#token=…&job=1 (with a virtual time budget,
     so that the page's script has fetched the API and filled the page) and the DOM must show
     job 1 in the job list and in the detail pane with its id, name and state, and its counters
     equal to what GET /jobs/1 returns; job 2 listed as running; the graph's source and sink.
     The same check run against a wrong expectation (another job id, a counter off by one) must
     fail: the check can fail.
  2. `chromium --headless=new --screenshot` saves the page of the running job (--screenshot,
     default: a temporary file) and the file must be a 1280x900 PNG.
  3. The FIFO job is stopped, the server SIGTERMed; it must exit 0.

Without a chromium on PATH the test prints SKIP and exits 0, unless SLUICE_REQUIRE_CHROMIUM=1
(then it fails). Exit status: 0 passed (or skipped), 1 failed.

    ci/ui_test.py build/sluice [--screenshot docs/ui-screenshot.png]
"""

import argparse
import html.parser
import json
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

TOKEN = "ui-test-token"
TRADES = 20_000
SCHEMA = ("trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, "
          "quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP")


def job_sql(trades, output):
    return (
        "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, "
        "AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high\n"
        "FROM trades GROUP BY symbol WITH (\n"
        f"'trades.type' = 'file_source', 'trades.path' = '{trades}', 'trades.format' = 'json', "
        f"'trades.schema' = '{SCHEMA}', 'event.time.field' = 'trade_time', "
        f"'volume.type' = 'file_sink', 'volume.path' = '{output}', "
        "'volume.changelog.mode' = 'changelog');\n")


def trade_lines(generator, first_id, count, unix_millis=None):
    lines = []
    for i in range(first_id, first_id + count):
        millis = unix_millis if unix_millis is not None else 1_796_630_400_000 + i * 10
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + ".%03dZ" % (millis % 1000)
        lines.append(json.dumps({
            "trade_id": i, "trader_id": "t%d" % generator.randrange(200),
            "symbol": "S%02d" % generator.randrange(40), "category": "equity",
            "price": round(generator.uniform(1, 500), 2), "quantity": generator.randrange(1, 1000),
            "side": generator.choice(["buy", "sell"]), "venue": generator.choice(["XNAS", "XNYS"]),
            "trade_time": stamp}))
    return "\n".join(lines) + "\n"


class Api:
    def __init__(self, url):
        self.url = url

    def call(self, method, path, body=None):
        request = urllib.request.Request(self.url + path, data=body, method=method,
                                         headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
            return json.loads(text) if response.headers.get_content_type() == "application/json" else text

    def wait_for_state(self, job, states, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            answer = self.call("GET", f"/jobs/{job}")
            if answer["state"] in states or time.monotonic() > deadline:
                return answer
            time.sleep(0.05)


class DomFields(html.parser.HTMLParser):
    """Every element with a data-field attribute: (scope, field, data-value, text), the scope being
    "row:<id>" inside the job list's row of job <id>, "detail" inside the job pane (#job)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.stack = []  # (tag, scope, capture index or None)
        self.fields = []
        self.graph_kinds = []

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        scope = self.stack[-1][1] if self.stack else ""
        if "data-job-id" in attributes:
            scope = "row:" + attributes["data-job-id"]
        elif attributes.get("id") == "job":
            scope = "detail"
        if "data-kind" in attributes:
            self.graph_kinds.append(attributes["data-kind"])
        capture = None
        if "data-field" in attributes:
            self.fields.append([scope, attributes["data-field"], attributes.get("data-value"), ""])
            capture = len(self.fields) - 1
        if tag not in self.VOID:
            self.stack.append((tag, scope, capture))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, _, capture in self.stack:
            if capture is not None:
                self.fields[capture][3] += data

    def find(self, scope, field):
        return [(value, text.strip()) for s, f, value, text in self.fields if s == scope and f == field]


# What the page must show of a job, from GET /jobs/{id}: (field, value, whether the visible
# text is the value itself, digits grouped by commas).
def expectations(job):
    c = job["counters"]
    shown = [("id", job["id"]), ("name", job["name"]), ("state", job["state"]),
             ("records_in", c["records_in"]), ("records_out", c["records_out"])]
    detail = shown + [("dead_lettered", c["dead_lettered"]), ("late", c["late"]),
                      ("state_keys", c["state_keys"]), ("parallelism", job["parallelism"]), ("runs", job["runs"])]
    # Shown formatted (bytes, seconds): their raw value is data-value.
    raw = [("bytes_in", c["bytes_in"]), ("state_bytes", c["state_bytes"])]
    return shown, detail, raw


def check_job(dom, job):
    """The problems with how `dom` (a DomFields) shows `job` (GET /jobs/{id}'s answer)."""
    problems = []
    shown, detail, raw = expectations(job)

    def check(scope, field, value, text_too):
        found = dom.find(scope, field)
        if len(found) != 1:
            problems.append(f"{scope}: {len(found)} elements with data-field={field}, expected 1")
            return
        got_value, got_text = found[0]
        if got_value != str(value):
            problems.append(f"{scope}: {field} data-value {got_value!r}, GET /jobs/{job['id']} says {value!r}")
        if text_too and got_text.replace(",", "") != str(value):
            problems.append(f"{scope}: {field} shows {got_text!r}, GET /jobs/{job['id']} says {value!r}")

    for field, value in shown:
        check("row:" + job["id"], field, value, True)
    for field, value in detail:
        check("detail", field, value, True)
    for field, value in raw:
        check("detail", field, value, False)
    return problems


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def chromium_command(chromium, profile, *arguments):
    return [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            f"--user-data-dir={profile}", "--virtual-time-budget=5000", *arguments]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sluice", help="the sluice binary")
    parser.add_argument("--screenshot", help="where to save the screenshot (default: a temporary file)")
    options = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        required = os.environ.get("SLUICE_REQUIRE_CHROMIUM") == "1"
        print(f"ui_test: {'FAILED (SLUICE_REQUIRE_CHROMIUM=1)' if required else 'SKIP'}: no chromium on PATH "
              "(Debian package 'chromium'; `make deps` installs it)", file=sys.stderr)
        return 1 if required else 0
    started = time.monotonic()
    failures = []
    with tempfile.TemporaryDirectory(prefix="sluice-ui-test-") as root:
        generator = random.Random(24)
        trades = os.path.join(root, "trades.jsonl")
        with open(trades, "w") as f:
            f.write(trade_lines(generator, 0, TRADES))
        fifo = os.path.join(root, "trades.fifo")
        os.mkfifo(fifo)
        config = os.path.join(root, "sluice.yaml")
        with open(config, "w") as f:
            f.write(f"port: 0\ndata_dir: {root}/data\ntoken: {TOKEN}\n")
        err_path = os.path.join(root, "server.err")
        with open(err_path, "w") as err, open(os.path.join(root, "server.out"), "w") as out:
            server = subprocess.Popen([options.sluice, "serve", "--config", config], stdout=out, stderr=err)
        feeder = None
        stop_feeding = threading.Event()
        try:
            url = None
            deadline = time.monotonic() + 30
            while url is None and time.monotonic() < deadline and server.poll() is None:
                match = re.search(r"listening on (http://\S+)", open(err_path).read())
                url = match.group(1) if match else None
                time.sleep(0.02)
            if url is None:
                raise RuntimeError("the server did not start: " + open(err_path).read())
            api = Api(url)
            # Job 1 runs to its end: its counters no longer move, so the page must show them.
            submitted = api.call("POST", "/jobs", job_sql(trades, os.path.join(root, "volume.jsonl")).encode())
            job1 = api.wait_for_state(submitted["id"], {"finished", "failed"})
            if job1["state"] != "finished" or job1["counters"]["records_in"] != TRADES:
                raise RuntimeError(f"job 1 did not finish reading {TRADES} trades: {job1}")
            # Job 2 reads a FIFO this script feeds with trades of the current time: it runs while
            # the browser looks at it.
            job2_id = api.call("POST", "/jobs", job_sql(fifo, os.path.join(root, "live.jsonl")).encode())["id"]

            def feed():
                try:
                    with open(fifo, "w") as pipe:
                        next_id = 0
                        while not stop_feeding.is_set():
                            pipe.write(trade_lines(generator, next_id, 500, int(time.time() * 1000)))
                            pipe.flush()
                            next_id += 500
                            # A varying rate, so that the throughput chart shows a line, not a constant.
                            time.sleep(0.02 + 0.03 * (1 + (next_id // 20_000) % 3))
                except BrokenPipeError:
                    pass  # the job stopped reading

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            time.sleep(4)  # a few of the server's once-a-second snapshots for the charts

            profile = os.path.join(root, "chromium")
            page = f"{url}/ui/#token={TOKEN}&job={job1['id']}"
            dumped = subprocess.run(chromium_command(chromium, profile, "--dump-dom", page),
                                    capture_output=True, text=True, timeout=60)
            if dumped.returncode != 0:
                raise RuntimeError(f"chromium --dump-dom exited {dumped.returncode}: {dumped.stderr[-2000:]}")
            dom = DomFields()
            dom.feed(dumped.stdout)
            shown = api.call("GET", f"/jobs/{job1['id']}")
            failures += check_job(dom, shown)
            running = dom.find("row:" + job2_id, "state")
            if [value for value, _ in running] != ["running"]:
                failures.append(f"row:{job2_id}: state {running}, expected one 'running'")
            if dom.graph_kinds.count("source") != 1 or dom.graph_kinds.count("sink") != 1:
                failures.append(f"the graph's nodes are {dom.graph_kinds}: expected one source and one sink")
            # The check must be able to fail: another job's id, a counter off by one.
            wrong_id = dict(shown, id=str(int(shown["id"]) + 100))
            wrong_count = dict(shown, counters=dict(shown["counters"],
                                                    records_out=shown["counters"]["records_out"] + 1))
            for wrong in (wrong_id, wrong_count):
                if not check_job(dom, wrong):
                    failures.append("the DOM check passed against a wrong expectation: it cannot fail")
            if failures:
                failures.append("the page as chromium left it:\n" + dumped.stdout[:6000])

            screenshot = options.screenshot or os.path.join(root, "ui-screenshot.png")
            if os.path.exists(screenshot):
                os.remove(screenshot)
            page = f"{url}/ui/#token={TOKEN}&job={job2_id}"
            shot = subprocess.run(chromium_command(chromium, profile, "--window-size=1280,900",
                                                   f"--screenshot={os.path.abspath(screenshot)}", page),
                                  capture_output=True, text=True, timeout=60)
            size = png_size(screenshot) if os.path.exists(screenshot) else None
            if shot.returncode != 0 or size != (1280, 900):
                failures.append(f"chromium --screenshot exited {shot.returncode}, {screenshot}: "
                                f"{'a PNG of %dx%d' % size if size else 'no PNG'}: {shot.stderr[-2000:]}")

            # Fed until it has stopped: a source waiting on the FIFO sees the stop with its next
            # lines, while an ended feed would end its input first (and the job would finish).
            api.call("POST", f"/jobs/{job2_id}/stop")
            stopped = api.wait_for_state(job2_id, {"stopped", "finished", "failed"})
            stop_feeding.set()
            if stopped["state"] != "stopped":
                failures.append(f"job {job2_id} did not stop: {stopped}")
        except Exception as error:  # noqa: BLE001 (any error fails the test, with its message)
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            stop_feeding.set()
            if feeder is not None:
                try:  # a reader that went away leaves the writer blocked in open() or write()
                    os.close(os.open(fifo, os.O_RDONLY | os.O_NONBLOCK))
                except OSError:
                    pass
                feeder.join(timeout=5)
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                code = "killed after 30 s"
            if code != 0:
                failures.append(f"sluice serve exited {code} on SIGTERM: {open(err_path).read()[-2000:]}")
    seconds = time.monotonic() - started
    if failures:
        print("ui_test: FAILED\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"ui_test: passed in {seconds:.1f} s (chromium: the page showed job 1's id, state and counters as "
          f"GET /jobs/1 does; screenshot {options.screenshot or 'taken'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
