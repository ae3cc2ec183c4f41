#!/usr/bin/python3
"""The web UI of `sluice serve` in a real browser (Debian's headless chromium).

Starts `sluice serve` on a loopback port the system picks, with a token, and submits two jobs
over REST: a file -> file GROUP BY (Scenario 2's query over a few thousand generated trades),
which runs to its end, and the same query on two workers over a Kafka topic (`sluice kafka-mock`,
two partitions) that this script keeps feeding through kcat, so that a running job has live
charts and a live task graph. Then:

  1. `chromium --headless=new --dump-dom` loads /ui/#token=…&job=1 (with a virtual time budget,
     so that the page's script has fetched the API and filled the page) and the DOM must show
     job 1 in the job list and in the detail pane with its id, name and state, and its counters
     equal to what GET /jobs/1 returns; job 2 listed as running; the graph's source and sink.
     The same check run against a wrong expectation (another job id, a counter off by one) must
     fail: the check can fail.
  2. The same for the running job 2 (parallelism 2): its task graph must show the tasks GET
     /jobs/2 lists (two workers and the coordinator), every worker with a nonzero rate of
     records in and a nonzero busy share, and a channel with a nonzero rate: the workers'
     counters are live while the job runs. The check must fail on job 1's page (one fused
     task) and on job 2's with the rates zeroed.
  3. `chromium --headless=new --screenshot` saves the page of the running job (--screenshot,
     default: a temporary file) and the file must be a 1280x900 PNG.
  4. The Kafka job is stopped (with a savepoint), the server SIGTERMed; it must exit 0.

Without a chromium (or kcat) on PATH the test prints SKIP and exits 0, unless
SLUICE_REQUIRE_CHROMIUM=1 (then it fails). Exit status: 0 passed (or skipped), 1 failed.

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


def job_sql(trades, output, bootstrap=None):
    """Scenario 2 over the file `trades`, or over Kafka topic `trades` at `bootstrap`."""
    if bootstrap is None:
        source = f"'trades.type' = 'file_source', 'trades.path' = '{trades}', 'trades.format' = 'json', "
    else:
        source = (f"'trades.type' = 'kafka_source', 'trades.topic' = '{trades}', "
                  f"'trades.bootstrap.servers' = '{bootstrap}', 'trades.group.id' = 'ui-test', "
                  "'trades.properties.session.timeout.ms' = '6000', "
                  "'trades.properties.heartbeat.interval.ms' = '500', ")
    return (
        "CREATE STREAM volume AS SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS volume, "
        "AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high\n"
        "FROM trades GROUP BY symbol WITH (\n"
        f"{source}'trades.schema' = '{SCHEMA}', 'event.time.field' = 'trade_time', "
        f"'volume.type' = 'file_sink', 'volume.path' = '{output}', "
        "'volume.changelog.mode' = 'changelog');\n")


def trade_lines(generator, first_id, count, unix_millis=None, keyed=False):
    """JSON Lines trades; `keyed`: each line starts with its symbol and a tab (kcat -K '\\t')."""
    lines = []
    for i in range(first_id, first_id + count):
        millis = unix_millis if unix_millis is not None else 1_796_630_400_000 + i * 10
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000)) + ".%03dZ" % (millis % 1000)
        symbol = "S%02d" % generator.randrange(40)
        line = json.dumps({
            "trade_id": i, "trader_id": "t%d" % generator.randrange(200),
            "symbol": symbol, "category": "equity",
            "price": round(generator.uniform(1, 500), 2), "quantity": generator.randrange(1, 1000),
            "side": generator.choice(["buy", "sell"]), "venue": generator.choice(["XNAS", "XNYS"]),
            "trade_time": stamp})
        lines.append(symbol + "\t" + line if keyed else line)
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

    def wait_for_records(self, job, records, timeout=60):
        """GET /jobs/{job} until it has read `records`; RuntimeError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.call("GET", f"/jobs/{job}")
            if answer["counters"]["records_in"] >= records:
                return answer
            if answer["state"] != "running" or time.monotonic() > deadline:
                raise RuntimeError(f"job {job} did not read {records} records: {answer}")
            time.sleep(0.05)

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
        self.tasks = []  # the task graph's nodes: their data-* attributes
        self.channels = []  # its edges

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        scope = self.stack[-1][1] if self.stack else ""
        if "data-job-id" in attributes:
            scope = "row:" + attributes["data-job-id"]
        elif attributes.get("id") == "job":
            scope = "detail"
        if "data-kind" in attributes:
            self.graph_kinds.append(attributes["data-kind"])
        if "data-task" in attributes:
            self.tasks.append(attributes)
        if "data-channel" in attributes:
            self.channels.append(attributes)
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


def check_task_graph(dom, job):
    """The problems with `dom`'s task graph for `job`, running on several workers: its tasks must
    be those of GET /jobs/{id}, every worker taking records in and busy, a channel moving records."""
    problems = []
    names = [task.get("data-task") for task in dom.tasks]
    expected = [task["task"] for task in job["tasks"]]
    if names != expected:
        problems.append(f"the task graph's tasks are {names}, GET /jobs/{job['id']} lists {expected}")
    workers = [task for task in dom.tasks if task.get("data-task", "").startswith("worker ")]
    if len(workers) < 2:
        problems.append(f"the task graph shows {len(workers)} workers, expected {job['parallelism']} (>= 2)")
    for task in workers:
        for field in ("data-records-in-per-second", "data-busy-share"):
            if not float(task.get(field) or 0) > 0:
                problems.append(f"task {task.get('data-task')}: {field} is {task.get(field)!r}, expected > 0")
    if not any(float(channel.get("data-records-per-second") or 0) > 0 for channel in dom.channels):
        problems.append(f"no channel of the task graph moves records: {dom.channels}")
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
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if chromium is None or kcat is None:
        required = os.environ.get("SLUICE_REQUIRE_CHROMIUM") == "1"
        missing = "chromium" if chromium is None else "kcat"
        print(f"ui_test: {'FAILED (SLUICE_REQUIRE_CHROMIUM=1)' if required else 'SKIP'}: no {missing} on PATH "
              f"(Debian package '{missing}'; `make deps` installs it)", file=sys.stderr)
        return 1 if required else 0
    started = time.monotonic()
    failures = []
    with tempfile.TemporaryDirectory(prefix="sluice-ui-test-") as root:
        generator = random.Random(24)
        trades = os.path.join(root, "trades.jsonl")
        with open(trades, "w") as f:
            f.write(trade_lines(generator, 0, TRADES))
        config = os.path.join(root, "sluice.yaml")
        with open(config, "w") as f:
            f.write(f"port: 0\ndata_dir: {root}/data\ntoken: {TOKEN}\n")
        err_path = os.path.join(root, "server.err")
        with open(err_path, "w") as err, open(os.path.join(root, "server.out"), "w") as out:
            server = subprocess.Popen([options.sluice, "serve", "--config", config], stdout=out, stderr=err)
        feeder = None
        producer = None
        stop_feeding = threading.Event()
        mock_out = os.path.join(root, "mock.out")
        with open(mock_out, "w") as out, open(os.path.join(root, "mock.err"), "w") as err:
            mock = subprocess.Popen([options.sluice, "kafka-mock", "--brokers", "1", "--topic", "trades:2"],
                                    stdout=out, stderr=err)
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
            # Job 2 reads, on two workers, a Kafka topic this script feeds (through kcat) with
            # trades of the current time, keyed by symbol: it runs while the browser looks at it.
            bootstrap = None
            deadline = time.monotonic() + 30
            while bootstrap is None and time.monotonic() < deadline and mock.poll() is None:
                match = re.search(r"^bootstrap\.servers=(\S+)", open(mock_out).read(), re.M)
                bootstrap = match.group(1) if match else None
                time.sleep(0.02)
            if bootstrap is None:
                raise RuntimeError("sluice kafka-mock did not start: " + open(os.path.join(root, "mock.err")).read())
            producer = subprocess.Popen([kcat, "-P", "-b", bootstrap, "-t", "trades", "-K", "\t"],
                                        stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            job2_id = api.call("POST", "/jobs?parallelism=2",
                               job_sql("trades", os.path.join(root, "live.jsonl"), bootstrap).encode())["id"]

            def feed():
                try:
                    next_id = 0
                    while not stop_feeding.is_set():
                        producer.stdin.write(trade_lines(generator, next_id, 500, int(time.time() * 1000), True))
                        producer.stdin.flush()
                        next_id += 500
                        # A varying rate, so that the throughput chart shows a line, not a constant.
                        time.sleep(0.02 + 0.03 * (1 + (next_id // 20_000) % 3))
                except (BrokenPipeError, ValueError):
                    pass  # kcat is gone

            feeder = threading.Thread(target=feed, daemon=True)
            feeder.start()
            # The consumer group forms (a few seconds), then a few of the server's once-a-second
            # snapshots for the charts and rates.
            api.wait_for_records(job2_id, 1)
            time.sleep(3)

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

            # The running job on two workers: its task graph's rates are live.
            page = f"{url}/ui/#token={TOKEN}&job={job2_id}"
            dumped2 = subprocess.run(chromium_command(chromium, profile, "--dump-dom", page),
                                     capture_output=True, text=True, timeout=60)
            if dumped2.returncode != 0:
                raise RuntimeError(f"chromium --dump-dom exited {dumped2.returncode}: {dumped2.stderr[-2000:]}")
            dom2 = DomFields()
            dom2.feed(dumped2.stdout)
            job2 = api.call("GET", f"/jobs/{job2_id}")
            graph_problems = check_task_graph(dom2, job2)
            # The check must be able to fail: job 1's page (one fused task), job 2's with no rates.
            if not check_task_graph(dom, shown):
                graph_problems.append("the task graph check passed on job 1's page (one fused task): it cannot fail")
            zeroed = DomFields()
            zeroed.tasks = [dict(task, **{"data-records-in-per-second": "0"}) for task in dom2.tasks]
            zeroed.channels = [dict(channel, **{"data-records-per-second": "0"}) for channel in dom2.channels]
            if not check_task_graph(zeroed, job2):
                graph_problems.append("the task graph check passed with every rate zeroed: it cannot fail")
            if graph_problems:
                graph_problems.append("job 2's task graph as chromium left it: tasks "
                                      f"{dom2.tasks}, channels {dom2.channels}; GET /jobs/{job2_id}: "
                                      f"tasks {job2['tasks']}, channels {job2['channels']}")
            failures += graph_problems

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
                feeder.join(timeout=5)
            for process in (producer, mock):
                if process is not None:
                    process.terminate()
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
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
          f"GET /jobs/1 does, and job 2's task graph live rates on 2 workers; screenshot "
          f"{options.screenshot or 'taken'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
